// Every test process talks to the run's DynamoDB Local (set by globalSetup) with dummy credentials.
process.env.LOG_LEVEL ??= 'silent';
// test/integration/metrics.test.ts turns them on for itself.
process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
process.env.AWS_REGION ??= 'us-east-1';
process.env.AWS_ACCESS_KEY_ID ??= 'local';
process.env.AWS_SECRET_ACCESS_KEY ??= 'local';
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
process.env.TABLE_NAME ??= 'unit-tests-have-no-table';
