'use strict';

/**
 * Puts the stack's tags (`provider.stackTags`: service and stage) on every resource of the
 * template that takes tags, so that cost reports and access policies see them whatever
 * CloudFormation propagates; the API stage gets them through the deployment.
 */
const TAGGABLE = new Set([
  'AWS::ApiGateway::RestApi',
  'AWS::CloudWatch::Alarm',
  'AWS::DynamoDB::Table',
  'AWS::IAM::Role',
  'AWS::Lambda::EventSourceMapping',
  'AWS::Lambda::Function',
  'AWS::Logs::LogGroup',
  'AWS::S3::Bucket',
  'AWS::SNS::Topic',
  'AWS::SQS::Queue',
  'AWS::StepFunctions::StateMachine',
  'AWS::Events::EventBus',
]);

class ResourceTags {
  constructor(serverless) {
    this.serverless = serverless;
    // After the resources of serverless.yml are merged in, before the template is saved.
    this.hooks = { 'before:aws:package:finalize:saveServiceState': () => this.apply() };
  }

  apply() {
    const provider = this.serverless.service.provider;
    const wanted = Object.entries(provider.stackTags || {}).map(([Key, Value]) => ({ Key, Value: String(Value) }));
    for (const resource of Object.values(provider.compiledCloudFormationTemplate.Resources)) {
      if (resource.Type === 'AWS::ApiGateway::Deployment') {
        resource.Properties.StageDescription = { ...(resource.Properties.StageDescription || {}), Tags: merge([], wanted) };
        continue;
      }
      if (!TAGGABLE.has(resource.Type)) continue;
      resource.Properties = resource.Properties || {};
      resource.Properties.Tags = merge(resource.Properties.Tags || [], wanted);
    }
  }
}

/** The resource's own tags win over the stack's. */
function merge(own, wanted) {
  const keys = new Set(own.map((tag) => tag.Key));
  return [...own, ...wanted.filter((tag) => !keys.has(tag.Key))];
}

module.exports = ResourceTags;
