// Settings of the import worker Lambda, read from its environment with defaults, failing at once
// on a malformed number (as lib/config.ts does for the service's own settings).

/** Registrations in flight in one worker invocation. */
export function workerConcurrency(): number {
  return positive('IMPORT_WORKER_CONCURRENCY', 16);
}

/**
 * Registrations per second of one worker invocation. The state machine's MaxConcurrency times
 * this is the job's rate (config/import.json: 16 x 225 = 3,600/s, 10 M lines in 46 minutes, within
 * the table's warm throughput).
 */
export function workerRate(): number {
  return positive('IMPORT_WORKER_RATE', 60);
}

function positive(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1) throw new Error(`${name} must be a positive integer, not ${raw}`);
  return value;
}

/** The import bucket of the stage (S3); unset locally, where IMPORT_OBJECTS_DIR stands for it. */
export function importBucket(): string | undefined {
  return process.env.IMPORT_BUCKET || undefined;
}

/** A directory that stands for the import bucket locally (`serverless invoke local`, tests). */
export function importObjectsDir(): string | undefined {
  return process.env.IMPORT_OBJECTS_DIR || undefined;
}

/** Lines per batch of an import at scale's plan: one worker invocation's share. */
export function linesPerBatch(): number {
  return positive('IMPORT_LINES_PER_BATCH', 1000);
}

/** Bytes per batch at most (a line longer than that is a batch alone). */
export function bytesPerBatch(): number {
  return positive('IMPORT_BYTES_PER_BATCH', 8 * 1024 * 1024);
}
