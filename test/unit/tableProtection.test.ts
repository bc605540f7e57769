// eslint-disable-next-line @typescript-eslint/no-require-imports
const TableProtection = require('../../scripts/serverless/tableProtection.js');

// The table's deletion protection is turned on after a successful deploy of a regional stage
// (scripts/serverless/tableProtection.js): the template leaves it off so that a deploy creating the
// table can roll back. What the plugin asks of AWS, through the provider osls deploys with.

function serverlessFor(stage: string, protectedAlready: boolean) {
  const requests: [string, string, unknown][] = [];
  const logged: string[] = [];
  const serverless = {
    service: { provider: { stage }, custom: { tableName: `loyalty-customers-${stage}` } },
    cli: { log: (line: string) => logged.push(line) },
    getProvider: () => ({
      request: async (service: string, method: string, params: unknown) => {
        requests.push([service, method, params]);
        return method === 'describeTable' ? { Table: { DeletionProtectionEnabled: protectedAlready } } : {};
      },
    }),
  };
  return { plugin: new TableProtection(serverless), requests, logged };
}

describe('tableProtection', () => {
  test('runs after the deploy, and turns protection on for a regional stage table that has none', async () => {
    const { plugin, requests, logged } = serverlessFor('emea', false);
    await plugin.hooks['after:deploy:deploy']();
    expect(requests).toEqual([
      ['DynamoDB', 'describeTable', { TableName: 'loyalty-customers-emea' }],
      ['DynamoDB', 'updateTable', { TableName: 'loyalty-customers-emea', DeletionProtectionEnabled: true }],
    ]);
    expect(logged).toEqual(['Deletion protection turned on for table loyalty-customers-emea']);
  });

  test('sends no update when the table is protected already, and nothing at all for the local stage', async () => {
    const regional = serverlessFor('asia2', true);
    await regional.plugin.hooks['after:deploy:deploy']();
    expect(regional.requests.map(([, method]) => method)).toEqual(['describeTable']);
    const local = serverlessFor('local', false);
    await local.plugin.hooks['after:deploy:deploy']();
    expect(local.requests).toEqual([]);
  });
});
