'use strict';

/**
 * Turns on the table's deletion protection after each successful deploy of a regional stage.
 * The template cannot: a deploy that creates the table and then rolls back must be able to
 * delete it (DeletionPolicy RetainExceptOnCreate), and DynamoDB refuses to delete a protected
 * table, which would leave the table behind and make every retry fail with "already exists".
 * Once a deploy has succeeded the table is protected against a DeleteTable from anywhere; the
 * stack itself retains it on deletion or replacement. The template never names the property,
 * so later deploys leave it as this set it.
 */
class TableProtection {
  constructor(serverless) {
    this.serverless = serverless;
    this.hooks = { 'after:deploy:deploy': () => this.protect() };
  }

  async protect() {
    const service = this.serverless.service;
    if (service.provider.stage === 'local') return;
    const provider = this.serverless.getProvider('aws');
    const TableName = service.custom.tableName;
    const { Table } = await provider.request('DynamoDB', 'describeTable', { TableName });
    if (Table.DeletionProtectionEnabled) return;
    await provider.request('DynamoDB', 'updateTable', { TableName, DeletionProtectionEnabled: true });
    this.serverless.cli.log(`Deletion protection turned on for table ${TableName}`);
  }
}

module.exports = TableProtection;
