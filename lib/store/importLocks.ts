// The item of an import job run by the CLI (SPEC section 9): which file the job is for, and the
// lock of the one importer running it. One item per org and job:
//
//   pk ORG#<org>#IMPORTJOB#<job>, sk IMPORTJOB
//   entity importJob, orgId, job, fileHash (sha256 of the file), till
//   holderHost, holderPid, holderToken, heldSince (ISO 8601), leaseUntil (epoch ms)   while held
//   expiresAt (epoch s): 30 days after the last write, as long as the job's idempotency records
//
// Every write is one conditional PutItem of the whole item, never a read and then a write: taking
// the lock is conditioned on the job being new, or this file's and till's and free or past its
// lease; taking it over from a holder known to be gone, on that holder (its token) still holding
// it, so two takers cannot both win; renewing and releasing, on this holder holding it. A write
// that fails its condition returns the item in place (ALL_OLD), so the caller learns who holds the
// job, or which file it was for, with no second read. Only PutItem (and no read at all) is sent.
// A release keeps the item, without a holder: the job still remembers its file.

import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { tableName } from '../config';
import { send } from './client';
import { keys } from './keys';

/** The `entity` attribute of a job's item. */
const ENTITY = 'importJob';

/** The job's item is kept as long as the records of its lines. */
const JOB_TTL_SECONDS = 30 * 24 * 60 * 60;

export interface ImportJob {
  orgId: number;
  job: string;
  /** sha256 of the file's content, hex. */
  fileHash: string;
  till: string;
}

export interface LockHolder {
  host: string;
  pid: number;
  /** Tells this holder from an earlier one of the same host and pid. */
  token: string;
  /** When it took the lock (ISO 8601). */
  since: string;
  /** Epoch milliseconds until which the lock is this holder's unless it renews it. */
  leaseUntil: number;
}

/** The job's item as stored: its file, and its holder while one holds it. */
export interface ImportJobItem extends ImportJob {
  holder?: LockHolder;
}

/** A write done, or refused by its condition with the item in place (none: there is no item). */
export type LockWrite = { written: true } | { written: false; found: ImportJobItem | undefined };

/**
 * Takes the lock for `holder`: the job is new (or its item expired), or it is for this file and
 * till and nobody holds it or its holder's lease has passed.
 */
export function takeImportLock(job: ImportJob, holder: LockHolder, now = Date.now()): Promise<LockWrite> {
  return put(
    job,
    holder,
    'attribute_not_exists(pk) OR expiresAt < :nowSeconds OR ' +
      '(fileHash = :fileHash AND till = :till AND (attribute_not_exists(holderToken) OR leaseUntil < :now))',
    { ':nowSeconds': Math.floor(now / 1000), ':fileHash': job.fileHash, ':till': job.till, ':now': now },
    now,
  );
}

/** Takes the lock from the holder whose token is `from` (one known to be gone), if that holder still holds it. */
export function takeOverImportLock(job: ImportJob, holder: LockHolder, from: string, now = Date.now()): Promise<LockWrite> {
  const values = { ':from': from, ':fileHash': job.fileHash, ':till': job.till };
  return put(job, holder, 'holderToken = :from AND fileHash = :fileHash AND till = :till', values, now);
}

/** Extends the holder's lease to the `leaseUntil` it carries, if it still holds the lock. */
export function renewImportLock(job: ImportJob, holder: LockHolder, now = Date.now()): Promise<LockWrite> {
  return put(job, holder, 'holderToken = :token', { ':token': holder.token }, now);
}

/** Frees the lock, keeping the job's item, if the holder still holds it. */
export function releaseImportLock(job: ImportJob, holder: LockHolder, now = Date.now()): Promise<LockWrite> {
  return put(job, undefined, 'holderToken = :token', { ':token': holder.token }, now);
}

async function put(
  job: ImportJob,
  holder: LockHolder | undefined,
  condition: string,
  values: Record<string, unknown>,
  now: number,
): Promise<LockWrite> {
  const item = {
    ...keys.importJob(job.orgId, job.job),
    entity: ENTITY,
    orgId: job.orgId,
    job: job.job,
    fileHash: job.fileHash,
    till: job.till,
    ...(holder
      ? {
          holderHost: holder.host,
          holderPid: holder.pid,
          holderToken: holder.token,
          heldSince: holder.since,
          leaseUntil: holder.leaseUntil,
        }
      : {}),
    expiresAt: Math.floor(now / 1000) + JOB_TTL_SECONDS,
  };
  try {
    await send(
      new PutCommand({
        TableName: tableName(),
        Item: item,
        ConditionExpression: condition,
        ExpressionAttributeValues: values,
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      }),
      ['ConditionalCheckFailedException'],
    );
    return { written: true };
  } catch (error) {
    if ((error as { name?: string }).name !== 'ConditionalCheckFailedException') throw error;
    const old = (error as { Item?: Record<string, AttributeValue> }).Item;
    return { written: false, found: old ? itemOf(unmarshall(old)) : undefined };
  }
}

function itemOf(item: Record<string, unknown>): ImportJobItem {
  const found: ImportJobItem = {
    orgId: Number(item.orgId),
    job: String(item.job ?? ''),
    fileHash: String(item.fileHash ?? ''),
    till: String(item.till ?? ''),
  };
  if (typeof item.holderToken === 'string') {
    found.holder = {
      host: String(item.holderHost),
      pid: Number(item.holderPid),
      token: item.holderToken,
      since: String(item.heldSince),
      leaseUntil: Number(item.leaseUntil),
    };
  }
  return found;
}
