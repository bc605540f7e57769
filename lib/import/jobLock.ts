// One importer at a time per job (SPEC section 9). Two importers of one job would write the same
// results, rejects and checkpoint files at once and tear them; so before any line is sent the CLI
// takes the job's lock, an item in the table (lib/store/importLocks.ts) holding this process's
// host and pid and a lease of 60 s, renewed every 20 s while the job runs and released at the end.
//
// A second importer of the job refuses at once, naming the running one. A lock whose holder is a
// process of this host that is gone (kill -9, a crash, a closed terminal) is taken over at once;
// one of another host, whose pid cannot be checked from here, once its lease has passed. Every
// take is a conditional write, so of two importers that race for a lock exactly one wins.
//
// The same item remembers the file (its sha256) and the till the job was first run with: a job
// run again for another file, or with another till, would answer 422 on every line (its records
// hold other bodies), so it is refused before any line is sent.
//
// An importer that cannot renew its lease (DynamoDB unreachable, the process suspended) stops
// writing its files once the lease is nearly over, since another importer may then take the job
// over: `assertHeld` throws from then on, and the job stops with one line (run it again).

import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import {
  releaseImportLock,
  renewImportLock,
  takeImportLock,
  takeOverImportLock,
  type ImportJob,
  type ImportJobItem,
  type LockHolder,
} from '../store/importLocks';
import { ImportError } from './errors';

export const LEASE_MS = 60_000;

export interface LockOptions {
  /** How long the lock holds without a renewal (default 60 s). */
  leaseMs?: number;
  /** How often it is renewed (default a third of the lease). */
  renewEveryMs?: number;
}

export class JobLock {
  private lost: ImportError | undefined;
  /** The last renewal got no answer from DynamoDB (as opposed to none being due yet). */
  private unanswered = false;
  private readonly timer: NodeJS.Timeout;
  private renewing: Promise<void> | undefined;
  private readonly listeners: (() => void)[] = [];

  constructor(
    private readonly job: ImportJob,
    private holder: LockHolder,
    private readonly leaseMs: number,
    renewEveryMs: number,
    /** The holder whose lock this one took over: a process of this host that was gone. */
    readonly tookOverFrom: LockHolder | undefined,
  ) {
    this.timer = setInterval(() => {
      this.renewing ??= this.renew().finally(() => (this.renewing = undefined));
    }, renewEveryMs);
    this.timer.unref();
  }

  /** Whether this importer may still write the job's files. */
  holds(): boolean {
    if (this.lost === undefined && Date.now() > this.holder.leaseUntil - this.leaseMs / 6) {
      const why = this.unanswered ? ' (DynamoDB did not answer)' : '';
      this.lose(`could not renew the lock of job ${this.job.job} before its lease ran out${why}; stopped: run the job again to go on`);
    }
    return this.lost === undefined;
  }

  /** Throws the reason this importer may no longer write the job's files. */
  assertHeld(): void {
    if (!this.holds()) throw this.lost!;
  }

  /** Calls `listener` once, when the lock is lost (the job should stop). */
  onLost(listener: () => void): void {
    if (this.lost) listener();
    else this.listeners.push(listener);
  }

  /** Frees the lock (the job's item stays, remembering its file). A failure leaves it to expire. */
  async release(): Promise<void> {
    clearInterval(this.timer);
    await this.renewing;
    if (this.lost) return;
    await releaseImportLock(this.job, this.holder).catch(() => undefined);
  }

  private async renew(): Promise<void> {
    if (this.lost) return;
    const renewed = { ...this.holder, leaseUntil: Date.now() + this.leaseMs };
    let write;
    try {
      write = await renewImportLock(this.job, renewed);
    } catch {
      // DynamoDB did not answer: the next tick tries again while the lease lasts.
      this.unanswered = true;
      return;
    }
    this.unanswered = false;
    if (write.written) this.holder = renewed;
    else
      this.lose(
        `lost the lock of job ${this.job.job}${write.found?.holder ? ` to ${describeHolder(write.found.holder)}` : ''}; stopped: run the job again to go on`,
      );
  }

  private lose(message: string): void {
    this.lost ??= new ImportError(message);
    this.listeners.splice(0).forEach((listener) => listener());
  }
}

/** Takes the job's lock, or refuses (an ImportError with one line) if it is running or was for another file or till. */
export async function lockJob(job: ImportJob, options: LockOptions = {}): Promise<JobLock> {
  const leaseMs = options.leaseMs ?? LEASE_MS;
  const renewEveryMs = options.renewEveryMs ?? leaseMs / 3;
  const holder = (): LockHolder => ({
    host: hostname(),
    pid: process.pid,
    token: randomUUID(),
    since: new Date().toISOString(),
    leaseUntil: Date.now() + leaseMs,
  });
  let found: ImportJobItem | undefined;
  // A lock freed, expired or taken over between two writes is tried again; a few rounds settle any race.
  for (let round = 0; round < 4; round++) {
    const mine = holder();
    const taken = await takeImportLock(job, mine);
    if (taken.written) return new JobLock(job, mine, leaseMs, renewEveryMs, undefined);
    found = taken.found;
    if (!found) continue;
    refuseOtherFile(job, found);
    if (found.holder && isGone(found.holder)) {
      const over = await takeOverImportLock(job, mine, found.holder.token);
      if (over.written) return new JobLock(job, mine, leaseMs, renewEveryMs, found.holder);
      // Another importer got there first, or the holder let go: look again.
      found = over.found;
      continue;
    }
    if (found.holder && found.holder.leaseUntil >= Date.now()) break;
  }
  if (found?.holder)
    throw new ImportError(`job ${job.job} is already running: ${describeHolder(found.holder)}; run it again once that one has stopped`);
  throw new ImportError(`could not take the lock of job ${job.job}; run it again`);
}

function refuseOtherFile(job: ImportJob, found: ImportJobItem): void {
  if (found.fileHash !== job.fileHash) {
    throw new ImportError(
      `job ${job.job} was run for another file (sha256 ${found.fileHash.slice(0, 12)}…, this one ${job.fileHash.slice(0, 12)}…); ` +
        'give this file its own --job (or none: the default job is the file’s hash)',
    );
  }
  if (found.till !== job.till) {
    throw new ImportError(
      `job ${job.job} was run with till ${found.till}, not ${job.till}; run it with --till ${found.till}, or give it another --job`,
    );
  }
}

/** Whether the holder is a process of this host that no longer exists. */
function isGone(holder: LockHolder): boolean {
  if (holder.host !== hostname()) return false;
  try {
    process.kill(holder.pid, 0);
  } catch (error) {
    // EPERM: the process exists, under another user.
    return (error as { code?: string }).code === 'ESRCH';
  }
  return isZombie(holder.pid);
}

/**
 * Whether the process has exited but not yet been reaped (Linux): a killed importer whose parent
 * died with it stays a zombie until the init process reaps it, which in a container may be late.
 */
function isZombie(pid: number): boolean {
  try {
    // /proc/<pid>/stat: "pid (command) state ..."; the command may hold spaces and parentheses.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) === 'Z';
  } catch {
    return false;
  }
}

function describeHolder(holder: LockHolder): string {
  return `pid ${holder.pid} on host ${holder.host}, since ${holder.since}`;
}
