/**
 * Environment for benchmark processes, imported before anything from lib/ (the logger reads
 * LOG_LEVEL when it is created). Set values win over these defaults.
 */
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
process.env.AWS_REGION ??= 'us-east-1';
process.env.LOG_LEVEL ??= 'silent';
// The requests' metrics are log lines of their own: none in the bench's output.
process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
process.env.TABLE_NAME ??= 'bench-customers';

export {};
