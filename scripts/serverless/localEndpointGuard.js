'use strict';

/**
 * Refuses to package or deploy a regional stage while DYNAMODB_ENDPOINT is set in the shell. The
 * functions' environment comes from stageEnvironment.js, never from the shell; the refusal is
 * there so that an operator who exported a local endpoint (for a local command) learns at once
 * that it does not apply, instead of wondering which table the stage uses.
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
    };
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

module.exports = LocalEndpointGuard;
