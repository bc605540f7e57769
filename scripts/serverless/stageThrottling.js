'use strict';

/**
 * Sets API Gateway stage throttling on POST /v2/customers from config/stages.json: the stage
 * admits `throttleOrgs` orgs at the stage's default per-org rate at once (requests per second
 * = rateLimitPerMinute * throttleOrgs / 60, burst twice that). API Gateway throttling is per
 * second and best-effort; the exact per-org limit is the service's own, counted in DynamoDB.
 */
class StageThrottling {
  constructor(serverless, options) {
    this.serverless = serverless;
    this.options = options;
    this.hooks = { 'before:package:finalize': () => this.apply() };
  }

  static throttleFor(settings) {
    const rateLimit = Math.round(((settings.rateLimitPerMinute * settings.throttleOrgs) / 60) * 100) / 100;
    return { rateLimit, burstLimit: Math.max(10, Math.ceil(rateLimit * 2)) };
  }

  apply() {
    const stage = this.serverless.service.provider.stage;
    const stages = require('../../config/stages.json');
    const settings = stages[stage];
    if (!settings) throw new Error(`config/stages.json has no stage ${stage}`);
    const { rateLimit, burstLimit } = StageThrottling.throttleFor(settings);
    const resources = this.serverless.service.provider.compiledCloudFormationTemplate.Resources;
    for (const resource of Object.values(resources)) {
      if (resource.Type !== 'AWS::ApiGateway::Deployment') continue;
      resource.Properties.StageDescription = {
        ...(resource.Properties.StageDescription || {}),
        MethodSettings: [
          { ResourcePath: '/~1v2~1customers', HttpMethod: 'POST', ThrottlingRateLimit: rateLimit, ThrottlingBurstLimit: burstLimit },
        ],
      };
    }
  }
}

module.exports = StageThrottling;
