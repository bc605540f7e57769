'use strict';

/**
 * CloudWatch alarms of a stage, all notifying the stage's AlarmTopic (SNS; subscribe to it):
 * - each function: any error, any throttle (5 minutes); a stream reader over
 *   `custom.alarms.streamIteratorAgeMinutes` behind its stream;
 * - the API: any 5xx answer, p99 latency over `custom.alarms.apiLatencyP99Ms`, and
 *   `custom.alarms.api429PerPeriod` or more 429 answers in a period (the stage throttle's or an
 *   org's limit: counted from the access log, since API Gateway has no metric of 429s alone);
 * - the table: throttled requests and system errors, summed over the operations the service
 *   sends (DynamoDB reports both per operation);
 * - each queue of things given up on (its logical id ends in DeadLetterQueue or FailureQueue):
 *   any message in it.
 * Thresholds and periods come from `custom.alarms` in serverless.yml. Written here rather than
 * with an alerts plugin because the API and table alarms need metric math and one topic, and
 * the template test checks the result.
 */
const TABLE_OPERATIONS = ['GetItem', 'Query', 'PutItem', 'UpdateItem', 'BatchGetItem', 'BatchWriteItem', 'TransactWriteItems'];

class Alarms {
  constructor(serverless) {
    this.serverless = serverless;
    this.hooks = { 'before:package:finalize': () => this.apply() };
  }

  apply() {
    const service = this.serverless.service;
    const settings = {
      periodSeconds: 300,
      apiLatencyP99Ms: 3000,
      streamIteratorAgeMinutes: 15,
      api429PerPeriod: 100,
      ...(service.custom.alarms || {}),
    };
    const resources = service.provider.compiledCloudFormationTemplate.Resources;
    const naming = this.serverless.getProvider('aws').naming;
    const stage = service.provider.stage;
    const topic = { Ref: 'AlarmTopic' };
    const alarm = (description, properties) => ({
      Type: 'AWS::CloudWatch::Alarm',
      Properties: {
        AlarmDescription: `${service.service} ${stage}: ${description}`,
        AlarmActions: [topic],
        OKActions: [topic],
        EvaluationPeriods: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        Threshold: 1,
        TreatMissingData: 'notBreaching',
        ...properties,
      },
    });
    const period = settings.periodSeconds;

    for (const name of service.getAllFunctions()) {
      const fn = service.getFunction(name);
      const id = naming.getLambdaLogicalId(name);
      const dimensions = [{ Name: 'FunctionName', Value: { Ref: id } }];
      // A stream reader reporting failed records is not in error: its iterator age says it is stuck.
      if ((fn.events || []).some((event) => event.stream)) {
        resources[`${id}IteratorAgeAlarm`] = alarm(`${fn.name} behind its stream by over ${settings.streamIteratorAgeMinutes} minutes`, {
          Namespace: 'AWS/Lambda',
          MetricName: 'IteratorAge',
          Dimensions: dimensions,
          Statistic: 'Maximum',
          Period: period,
          ComparisonOperator: 'GreaterThanThreshold',
          Threshold: settings.streamIteratorAgeMinutes * 60 * 1000,
        });
      }
      for (const metric of ['Errors', 'Throttles']) {
        resources[`${id}${metric}Alarm`] = alarm(`${fn.name} ${metric.toLowerCase()}`, {
          Namespace: 'AWS/Lambda',
          MetricName: metric,
          Dimensions: dimensions,
          Statistic: 'Sum',
          Period: period,
        });
      }
    }

    if (resources.ApiGatewayRestApi) {
      const apiName = `${stage}-${service.service}`;
      const dimensions = [
        { Name: 'ApiName', Value: apiName },
        { Name: 'Stage', Value: stage },
      ];
      resources.ApiGateway5xxAlarm = alarm('API 5xx answers', {
        Namespace: 'AWS/ApiGateway',
        MetricName: '5XXError',
        Dimensions: dimensions,
        Statistic: 'Sum',
        Period: period,
      });
      resources.ApiGatewayLatencyAlarm = alarm(`API p99 latency over ${settings.apiLatencyP99Ms} ms`, {
        Namespace: 'AWS/ApiGateway',
        MetricName: 'Latency',
        Dimensions: dimensions,
        ExtendedStatistic: 'p99',
        Period: period,
        EvaluationPeriods: 3,
        DatapointsToAlarm: 2,
        ComparisonOperator: 'GreaterThanThreshold',
        Threshold: settings.apiLatencyP99Ms,
      });
      // The access log's status is a string ("status":"$context.status").
      if (resources.ApiGatewayLogGroup) {
        resources.ApiGateway429MetricFilter = {
          Type: 'AWS::Logs::MetricFilter',
          Properties: {
            LogGroupName: { Ref: 'ApiGatewayLogGroup' },
            FilterPattern: '{ $.status = "429" }',
            MetricTransformations: [
              { MetricNamespace: 'LoyaltyCustomers', MetricName: `api_429_${stage}`, MetricValue: '1', DefaultValue: 0 },
            ],
          },
        };
        resources.ApiGateway429Alarm = alarm(`${settings.api429PerPeriod} or more 429 answers in ${period / 60} minutes`, {
          Namespace: 'LoyaltyCustomers',
          MetricName: `api_429_${stage}`,
          Statistic: 'Sum',
          Period: period,
          Threshold: settings.api429PerPeriod,
        });
      }
    }

    const declared = (service.resources && service.resources.Resources) || {};
    for (const [id, resource] of Object.entries(declared)) {
      if (resource.Type !== 'AWS::SQS::Queue' || !/(DeadLetterQueue|FailureQueue)$/.test(id)) continue;
      resources[`${id}MessagesAlarm`] = alarm(`messages given up on in ${id}`, {
        Namespace: 'AWS/SQS',
        MetricName: 'ApproximateNumberOfMessagesVisible',
        Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [id, 'QueueName'] } }],
        Statistic: 'Maximum',
        Period: period,
      });
    }

    for (const [metric, what] of [
      ['ThrottledRequests', 'throttled requests'],
      ['SystemErrors', 'system errors'],
    ]) {
      resources[`CustomersTable${metric}Alarm`] = alarm(`table ${what}`, {
        Metrics: [
          ...TABLE_OPERATIONS.map((operation, index) => ({
            Id: `m${index}`,
            ReturnData: false,
            MetricStat: {
              Metric: {
                Namespace: 'AWS/DynamoDB',
                MetricName: metric,
                Dimensions: [
                  { Name: 'TableName', Value: { Ref: 'CustomersTable' } },
                  { Name: 'Operation', Value: operation },
                ],
              },
              Period: period,
              Stat: 'Sum',
            },
          })),
          { Id: 'total', Label: `${metric} (all operations)`, Expression: 'SUM(METRICS())', ReturnData: true },
        ],
      });
    }
  }
}

module.exports = Alarms;
