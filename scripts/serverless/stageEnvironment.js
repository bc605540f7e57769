'use strict';

/**
 * The settings a stage's functions get from where they run, never from the shell that packages
 * them (`custom.stageEnvironment` in serverless.yml).
 *
 * - local: DynamoDB Local. Under `npm start` its endpoint is in DYNAMODB_ENDPOINT; for
 *   `serverless invoke local` on its own, the endpoint a running `npm start` wrote to
 *   .local/dynamodb.json (scripts/stage.ts writes and reads the same file). LOG_LEVEL may
 *   come from the shell; no metrics.
 * - a regional stage: AWS's DynamoDB (no endpoint) and the stage's log level from
 *   config/stages.json. LocalEndpointGuard refuses to package or deploy such a stage while
 *   DYNAMODB_ENDPOINT is set, so that a local setting is never mistaken for the stage's.
 */
const { readFileSync } = require('node:fs');
const { join } = require('node:path');

function announcedEndpoint() {
  const file = process.env.LOCAL_STAGE_FILE || join(__dirname, '..', '..', '.local', 'dynamodb.json');
  try {
    return JSON.parse(readFileSync(file, 'utf8')).endpoint || '';
  } catch {
    return '';
  }
}

/** The stages of config/stages.json (its `//` note is none). */
function stageNames() {
  return Object.keys(require('../../config/stages.json')).filter((name) => !name.startsWith('/'));
}

/**
 * One line and exit status 2, as the project's scripts answer a bad `--stage`. A thrown error
 * would reach the person as a stack trace among the other variables that cannot resolve
 * without the stage's settings.
 */
function refuseUnknownStage(stage) {
  process.stderr.write(`serverless: unknown stage ${stage}; one of ${stageNames().join(', ')}\n`);
  process.exit(2);
}

module.exports = async ({ resolveVariable }) => {
  const stage = await resolveVariable('sls:stage');
  const settings = stageNames().includes(stage) ? require('../../config/stages.json')[stage] : undefined;
  if (!settings) refuseUnknownStage(stage);
  if (stage === 'local') {
    return {
      dynamodbEndpoint: process.env.DYNAMODB_ENDPOINT || announcedEndpoint() || 'http://127.0.0.1:8000',
      logLevel: process.env.LOG_LEVEL || settings.logLevel || 'info',
      customDomain: false,
      // Embedded-metric lines mean nothing to a terminal.
      metricsDisabled: 'true',
      // Events stay in the process and webhooks are delivered by the publisher itself.
      eventBusName: '',
      webhookQueueUrl: '',
      // Only what is written while `npm start` runs (its checkpoints carry on after a restart).
      streamStartingPosition: 'LATEST',
      stageIsLocal: 'true',
      // No bucket: a planned import batch reads IMPORT_OBJECTS_DIR locally (lib/ports/importObjects.ts).
      importBucket: '',
      // No queue: the publisher's own delivery logs what it gives up on.
      webhookDeadLetterQueueUrl: '',
    };
  }
  return {
    dynamodbEndpoint: '',
    logLevel: settings.logLevel || 'info',
    customDomain: Boolean(settings.domainName),
    metricsDisabled: 'false',
    eventBusName: { Ref: 'EventBus' },
    webhookQueueUrl: { Ref: 'WebhookQueue' },
    // A stream mapping made after the first writes still sees them.
    streamStartingPosition: 'TRIM_HORIZON',
    stageIsLocal: 'false',
    importBucket: { Ref: 'ImportBucket' },
    webhookDeadLetterQueueUrl: { Ref: 'WebhookDeadLetterQueue' },
  };
};
