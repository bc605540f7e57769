/**
 * Settings read from the environment, in one place. Read on use (not at import) so that a
 * test can point one process at its own table.
 */

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

/** Per-org requests per minute on POST /v2/customers when the org sets no override. */
export function defaultRateLimitPerMinute(): number {
  const raw = process.env.RATE_LIMIT_PER_MINUTE;
  const value = raw === undefined || raw === '' ? 600 : Number(raw);
  if (!Number.isInteger(value) || value < 1) throw new Error(`RATE_LIMIT_PER_MINUTE must be a positive integer, not ${raw}`);
  return value;
}

/** How long org configuration and verified credentials stay cached per Lambda instance. */
export function configCacheMillis(): number {
  const raw = process.env.CONFIG_CACHE_SECONDS;
  return (raw === undefined || raw === '' ? 60 : Number(raw)) * 1000;
}
