import { packageStage } from '../support/packaged';

// The importMembers state machine as `serverless package --stage emea` builds it (SPEC section 9,
// imports at scale): a Distributed Map over a JSON Lines object in the import bucket, in batches,
// with bounded concurrency, a tolerated failure percentage and its results written back to S3,
// each batch registered by the importWorker function, whose role allows only what a registration
// sends. Step Functions cannot run offline here, so the definition is checked with asl-validator
// and by reading it; the worker itself runs against DynamoDB Local in test/integration/import.test.ts.
//
// Packaging runs in a scratch copy of the service (serverless.yml copied, everything else linked),
// as test/e2e/template.test.ts does, so that serverless-esbuild's work folder is never the one a
// `serverless offline` of another suite is serving from.

// asl-validator ships no type declarations.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const validateAsl = require('asl-validator') as (
  definition: unknown,
  options?: { checkPaths?: boolean; checkArn?: boolean },
) => { isValid: boolean; errorsText: (separator?: string) => string };

type Resource = { Type: string; Properties: any; DependsOn?: string[] };
type Template = { Resources: Record<string, Resource> };

async function packageEmea(): Promise<Template> {
  return (await packageStage('emea')).template as Template;
}

/**
 * The definition as Step Functions would get it: the plugin writes it as an Fn::Sub whose
 * placeholders stand for CloudFormation references; each becomes a recognisable string here.
 */
function definitionOf(machine: Resource): any {
  const [text, references] = machine.Properties.DefinitionString['Fn::Sub'] as [string, Record<string, unknown>];
  const resolved = text.replace(/\$\{(\w+)\}/g, (_, name: string) => {
    const reference = JSON.stringify(references[name]);
    if (reference.includes('ImportWorkerLambdaFunction'))
      return 'arn:aws:lambda:eu-west-1:123456789012:function:loyalty-customers-emea-importWorker';
    if (reference.includes('ImportBucket')) return 'loyalty-customers-emea-importbucket';
    return `unresolved-${name}`;
  });
  return JSON.parse(resolved);
}

const statementsOf = (role: Resource) =>
  (role.Properties.Policies ?? []).flatMap((policy: { PolicyDocument: { Statement: any[] } }) => policy.PolicyDocument.Statement);
const actionsOf = (statement: { Action: string | string[] }) => [statement.Action].flat();

describe('the importMembers state machine of serverless package --stage emea', () => {
  let template: Template;
  let machine: Resource;
  let definition: any;
  let map: any;

  beforeAll(async () => {
    template = await packageEmea();
    machine = template.Resources.ImportMembersStateMachine;
    definition = definitionOf(machine);
    map = definition.States[Object.keys(definition.States).find((name) => definition.States[name].Type === 'Map')!];
  }, 120_000);

  test('is a valid Amazon States Language definition (asl-validator, paths and ARNs checked)', () => {
    expect(machine.Type).toBe('AWS::StepFunctions::StateMachine');
    const result = validateAsl(definition, { checkPaths: true, checkArn: true });
    expect(result.errorsText('\n')).toBe('');
    expect(result.isValid).toBe(true);
  });

  test('asl-validator refuses a broken copy of it (the check is not a formality)', () => {
    const broken = structuredClone(definition);
    const name = Object.keys(broken.States).find((n) => broken.States[n].Type === 'Map')!;
    delete broken.States[name].ItemProcessor;
    expect(validateAsl(broken).isValid).toBe(false);
  });

  test('reads a JSON Lines object of the import bucket, its key from the execution input', () => {
    expect(map.ItemProcessor.ProcessorConfig).toEqual({ Mode: 'DISTRIBUTED', ExecutionType: 'STANDARD' });
    expect(map.ItemReader).toEqual({
      Resource: 'arn:aws:states:::s3:getObject',
      ReaderConfig: { InputType: 'JSONL' },
      Parameters: { Bucket: 'loyalty-customers-emea-importbucket', 'Key.$': '$.key' },
    });
  });

  test('hands the worker batches of numbered lines with the job in BatchInput, in bounded concurrency', () => {
    expect(map.ItemSelector).toEqual({ 'line.$': 'States.MathAdd($$.Map.Item.Index, 1)', 'body.$': '$$.Map.Item.Value' });
    expect(map.ItemBatcher).toEqual({
      MaxItemsPerBatch: 100,
      MaxInputBytesPerBatch: expect.any(Number),
      BatchInput: { 'orgId.$': '$.orgId', 'job.$': '$.job', 'till.$': '$.till' },
    });
    // Step Functions' limit for a batch's input is 256 KiB.
    expect(map.ItemBatcher.MaxInputBytesPerBatch).toBeLessThanOrEqual(256 * 1024);
    expect(map.MaxConcurrency).toBeGreaterThan(0);
    expect(map.MaxConcurrency).toBeLessThanOrEqual(16);
  });

  test('tolerates a small share of failed batches and writes the results to the bucket under results/<job>', () => {
    expect(map.ToleratedFailurePercentage).toBeGreaterThan(0);
    expect(map.ToleratedFailurePercentage).toBeLessThanOrEqual(10);
    expect(map.ResultWriter).toEqual({
      Resource: 'arn:aws:states:::s3:putObject',
      Parameters: { Bucket: 'loyalty-customers-emea-importbucket', 'Prefix.$': "States.Format('results/{}', $.job)" },
    });
  });

  test('the execution input may leave out till: the machine defaults it to null before the map', () => {
    expect(definition.StartAt).toBe('Defaults');
    expect(definition.States.Defaults).toMatchObject({ Type: 'Pass', Result: { till: null }, ResultPath: '$.defaults', Next: 'Input' });
    expect(definition.States.Input).toMatchObject({ Type: 'Pass', Parameters: { 'args.$': 'States.JsonMerge($.defaults, $, false)' } });
  });

  test('each batch invokes the importWorker function and is retried with backoff when DynamoDB or Lambda fails', () => {
    const [task] = Object.values(map.ItemProcessor.States) as any[];
    expect(task).toMatchObject({
      Type: 'Task',
      Resource: 'arn:aws:states:::lambda:invoke',
      Parameters: { FunctionName: 'arn:aws:lambda:eu-west-1:123456789012:function:loyalty-customers-emea-importWorker', 'Payload.$': '$' },
      OutputPath: '$.Payload',
      End: true,
    });
    const [retry] = task.Retry;
    expect(retry.ErrorEquals).toEqual(expect.arrayContaining(['ImportUnavailable', 'Lambda.TooManyRequestsException']));
    expect(retry.BackoffRate).toBeGreaterThan(1);
    expect(retry.MaxAttempts).toBeGreaterThan(1);
  });

  test('the worker has a role of its own allowing only the item actions a registration sends, its log stream and X-Ray', () => {
    const worker = template.Resources.ImportWorkerLambdaFunction;
    expect(worker.Properties.Role).toEqual({ 'Fn::GetAtt': ['ImportWorkerRole', 'Arn'] });
    expect(worker.Properties.Environment.Variables.TABLE_NAME).toBe('loyalty-customers-emea');
    expect(worker.Properties.Environment.Variables.DYNAMODB_ENDPOINT ?? '').toBe('');
    const statements = statementsOf(template.Resources.ImportWorkerRole);
    const allActions = statements.flatMap(actionsOf).sort();
    // GetItem: the org's configuration; PutItem, ConditionCheckItem, UpdateItem: the transactions'
    // items (a merge updates the known identifiers) and an idempotency record claimed alone;
    // DeleteItem: a refusal's record naming an erased customer, dropped before the line runs anew.
    // test/integration/import.test.ts checks that the importer sends nothing else.
    expect(allActions).toEqual([
      'dynamodb:ConditionCheckItem',
      'dynamodb:DeleteItem',
      'dynamodb:GetItem',
      'dynamodb:PutItem',
      'dynamodb:UpdateItem',
      'logs:CreateLogStream',
      'logs:PutLogEvents',
      'xray:PutTelemetryRecords',
      'xray:PutTraceSegments',
    ]);
    const dynamo = statements.find((s: any) => actionsOf(s).some((a) => a.startsWith('dynamodb:')));
    expect(dynamo.Effect).toBe('Allow');
    expect([dynamo.Resource].flat()).toEqual([{ 'Fn::GetAtt': ['CustomersTable', 'Arn'] }]);
    // Nothing of S3: the batches arrive in the invocation.
    expect(allActions.filter((a: string) => a.startsWith('s3:') || a === '*')).toEqual([]);
  });

  test("the state machine's role reads imports/, writes results/, invokes the worker and runs the map's child workflows", () => {
    expect(machine.Properties.RoleArn).toEqual({ 'Fn::GetAtt': ['ImportMembersRole', 'Arn'] });
    const statements = statementsOf(template.Resources.ImportMembersRole);
    const byAction = (action: string) => statements.filter((s: any) => actionsOf(s).includes(action));
    expect(JSON.stringify(byAction('s3:GetObject').map((s: any) => s.Resource))).toContain('/imports/*');
    expect(JSON.stringify(byAction('s3:PutObject').map((s: any) => s.Resource))).toContain('/results/*');
    expect(JSON.stringify(byAction('s3:PutObject').map((s: any) => s.Resource))).not.toContain('/imports/');
    expect(JSON.stringify(byAction('lambda:InvokeFunction').map((s: any) => s.Resource))).toContain('ImportWorkerLambdaFunction');
    expect(byAction('states:StartExecution')).toHaveLength(1);
    for (const statement of statements) {
      expect(actionsOf(statement).filter((a) => a === '*' || a.endsWith(':*') || a.startsWith('dynamodb:'))).toEqual([]);
    }
  });

  test('the import bucket is private, encrypted, TLS-only, and forgets objects after the records do (30 days)', () => {
    const bucket = template.Resources.ImportBucket;
    expect(bucket.Type).toBe('AWS::S3::Bucket');
    expect(bucket.Properties.PublicAccessBlockConfiguration).toEqual({
      BlockPublicAcls: true,
      BlockPublicPolicy: true,
      IgnorePublicAcls: true,
      RestrictPublicBuckets: true,
    });
    expect(bucket.Properties.BucketEncryption.ServerSideEncryptionConfiguration[0].ServerSideEncryptionByDefault.SSEAlgorithm).toBe(
      'AES256',
    );
    expect(bucket.Properties.LifecycleConfiguration.Rules[0]).toMatchObject({ Status: 'Enabled', ExpirationInDays: 30 });
    const policy = template.Resources.ImportBucketPolicy.Properties.PolicyDocument.Statement[0];
    expect(policy).toMatchObject({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } });
  });
});
