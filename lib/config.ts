// Settings read from the environment, in one place, each with its default. Read on use (not at
// import) so that a test can point one process at its own table; a malformed number fails at
// once with the variable's name rather than quietly becoming NaN.

export function tableName(): string {
  const name = process.env.TABLE_NAME;
  if (!name) throw new Error('TABLE_NAME is not set');
  return name;
}

/** DynamoDB endpoint; unset or empty means real AWS. */
export function dynamoEndpoint(): string | undefined {
  return process.env.DYNAMODB_ENDPOINT || undefined;
}

export function awsRegion(): string {
  return process.env.AWS_REGION || process.env.AWS_DEFAULT_REGION || 'us-east-1';
}

/** The stage's EventBridge bus; unset locally (events stay in the process). */
export function eventBusName(): string | undefined {
  return process.env.EVENT_BUS_NAME || undefined;
}

/** The queue the publisher sends webhook deliveries to; unset locally (delivered at once, in the publisher). */
export function deliveryQueueUrl(): string | undefined {
  return process.env.WEBHOOK_QUEUE_URL || undefined;
}

/** Where the webhook sender moves a delivery after its last attempt; unset locally (no queue). */
export function deliveryDeadLetterQueueUrl(): string | undefined {
  return process.env.WEBHOOK_DEAD_LETTER_QUEUE_URL || undefined;
}

export function logLevel(): string {
  return process.env.LOG_LEVEL || 'info';
}

/** Per-org requests per minute on POST /v2/customers when the org sets no override. */
export function defaultRateLimitPerMinute(): number {
  return positiveInteger('RATE_LIMIT_PER_MINUTE', 600);
}

/** How long org configuration and verified credentials stay cached per Lambda instance. */
export function configCacheMillis(): number {
  return nonNegativeNumber('CONFIG_CACHE_SECONDS', 60) * 1000;
}

/** Attempts the DynamoDB client makes per request (the first one and its retries). */
export function dynamoMaxAttempts(): number {
  return positiveInteger('DYNAMODB_MAX_ATTEMPTS', 5);
}

export function dynamoConnectTimeoutMillis(): number {
  return positiveInteger('DYNAMODB_CONNECT_TIMEOUT_MS', 1000);
}

export function dynamoRequestTimeoutMillis(): number {
  return positiveInteger('DYNAMODB_REQUEST_TIMEOUT_MS', 4000);
}

/** The local stage (npm start): webhooks may go to http URLs and loopback addresses there, never in AWS. */
export function stageIsLocal(): boolean {
  return process.env.STAGE_IS_LOCAL === 'true';
}

function positiveInteger(name: string, fallback: number): number {
  const value = numberOf(name, fallback);
  if (!Number.isInteger(value) || value < 1) throw new Error(`${name} must be a positive integer, not ${process.env[name]}`);
  return value;
}

function nonNegativeNumber(name: string, fallback: number): number {
  const value = numberOf(name, fallback);
  if (!Number.isFinite(value) || value < 0) throw new Error(`${name} must be a number of 0 or more, not ${process.env[name]}`);
  return value;
}

function numberOf(name: string, fallback: number): number {
  const raw = process.env[name];
  return raw === undefined || raw.trim() === '' ? fallback : Number(raw);
}
