// The job an import file is: `--job`, or a hash of the file's content (streamed), so that running
// the same file again is the same job (its lines replay) and an edited file is a new one. The
// file's whole hash is also what the job's item in the table remembers (jobLock.ts), so that a
// `--job` given to another file is refused.

import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { ImportError } from './errors';

const JOB_PATTERN = /^[A-Za-z0-9._-]{1,64}$/;

/** sha256 of the file's content, hex. */
export async function hashOfFile(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: 1024 * 1024 })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** The default job of a file of this hash. */
export function jobOfHash(fileHash: string): string {
  return fileHash.slice(0, 24);
}

export function checkJob(job: string): string {
  if (!JOB_PATTERN.test(job))
    throw new ImportError(`job ${JSON.stringify(job)} must be 1 to 64 letters, digits, dots, dashes or underscores`);
  return job;
}
