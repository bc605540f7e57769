'use strict';

const { connect } = require('node:net');

/** Long enough for a DynamoDB Local on this machine, short next to the SDK's retries (seconds). */
const PROBE_TIMEOUT_MS = 1000;

/**
 * Refuses to package or deploy a regional stage while DYNAMODB_ENDPOINT is set in the shell. The
 * functions' environment comes from stageEnvironment.js, never from the shell; the refusal is
 * there so that an operator who exported a local endpoint (for a local command) learns at once
 * that it does not apply, instead of wondering which table the stage uses.
 *
 * `serverless invoke local` on the local stage first checks that its DynamoDB Local accepts a
 * connection: without `npm start` the function would only answer 503 after the SDK's retries.
 */
class LocalEndpointGuard {
  constructor(serverless) {
    this.serverless = serverless;
    const check = () => this.check();
    const deploying = () => this.refuseLocal();
    this.hooks = {
      'before:package:initialize': check,
      'before:deploy:function:initialize': () => {
        deploying();
        check();
      },
      'before:deploy:deploy': deploying,
      // Before the bundle is built: the answer comes at once.
      'before:invoke:local:loadEnvVars': () => this.probeLocalTable(),
    };
  }

  async probeLocalTable() {
    const service = this.serverless.service;
    if (service.provider.stage !== 'local') return;
    const endpoint = (service.provider.environment || {}).DYNAMODB_ENDPOINT;
    if (!endpoint || (await accepts(endpoint))) return;
    // One line, as the project's scripts say it; a thrown error would come in a framed report.
    process.stderr.write(
      `serverless: the local stage needs DynamoDB Local (nothing answers on ${endpoint}): start it with \`npm start\` in another terminal\n`,
    );
    process.exit(1);
  }

  /** The local stage is DynamoDB Local's and allows loopback webhooks: never deployed to AWS. */
  refuseLocal() {
    if (this.serverless.service.provider.stage !== 'local') return;
    throw new this.serverless.classes.Error(
      'the local stage runs on this machine only (npm start); deploy a regional stage: --stage asia1, asia2 or emea',
      'LOCAL_STAGE_NOT_DEPLOYED',
    );
  }

  check() {
    const stage = this.serverless.service.provider.stage;
    const endpoint = process.env.DYNAMODB_ENDPOINT;
    if (stage === 'local' || !endpoint) return;
    throw new this.serverless.classes.Error(
      `stage ${stage} uses AWS's DynamoDB, but DYNAMODB_ENDPOINT=${endpoint} is set in this shell; unset it to package or deploy ${stage}`,
      'LOCAL_ENDPOINT_IN_REGIONAL_STAGE',
    );
  }
}

/** Whether something accepts a TCP connection at the endpoint's host and port within PROBE_TIMEOUT_MS. */
function accepts(endpoint) {
  let url;
  try {
    url = new URL(endpoint);
  } catch {
    return Promise.resolve(false);
  }
  const port = Number(url.port) || (url.protocol === 'https:' ? 443 : 80);
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (ok) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(PROBE_TIMEOUT_MS, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

module.exports = LocalEndpointGuard;
