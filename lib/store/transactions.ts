// Sends a planned transaction, and reads a cancelled one back, reason by reason, into the facts
// the identity rules decide on: who owns which identifier, which source accounts are taken,
// whether the idempotency record was there already. No second read is needed.
//
// A transaction whose attempt may have been applied although it failed (a timeout, a reset
// connection) is sent again with the same ClientRequestToken while the request's deadline
// allows: DynamoDB applies one token once, so the re-send either applies it or answers the
// first one's success. When time runs out first, the outcome is reported as unknown, never as
// "nothing written".

import { setTimeout as sleep } from 'node:timers/promises';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { timeLeft } from '../deadline';
import { send, takeMaybeApplied } from './client';
import { isUnavailable } from './storeError';
import { recordOf, type IdempotencyRecord } from './idempotencyRecords';
import type { ItemRole, PlannedTransaction } from './plans';

export interface Cancellation {
  /** identifier key -> owning customer id, for identifiers whose put or check failed. */
  owners: Map<string, number>;
  /** customer id -> source accounts in which that customer is known to have a profile. */
  takenSourceAccounts: Map<number, Set<string>>;
  /** Another transaction was working on the same items; try again. */
  conflict: boolean;
  /** DynamoDB throttled an item of the transaction; try again after a pause. */
  throttled: boolean;
  /** The idempotency record the transaction tried to claim, found in place. */
  record?: IdempotencyRecord;
  /** Identifier keys whose item the transaction expected to find, found gone (the value is free now). */
  freed: Set<string>;
  /**
   * The customer item was not as the transaction required (live, at the version read): its
   * `activity` now (undefined: no such customer). Read the customer again.
   */
  customerChanged?: { activity?: string };
  /**
   * A merge found its customer live but without room for its profiles: the customer and its
   * profile count as the item holds it (the org's maxProfilesPerCustomer decides on it).
   */
  full?: { customerId: number; profileCount: number };
  /** Identifier keys a release found no longer naming the customer: nothing to delete there. */
  notReleased: Set<string>;
  /**
   * An item names this very transaction as its writer (its new customer owns an identifier, or
   * its merged profile carries its token): an earlier send of it was applied.
   */
  ownWrite: boolean;
}

export type TransactionResult =
  | { ok: true }
  | { ok: false; cancellation: Cancellation }
  /** It may or may not have been applied, and the request's time ran out before that was known. */
  | { ok: false; unknown: true };

/** Re-sends of a transaction whose outcome is unknown, outside a request's deadline (tools, imports). */
const MAX_RESENDS = 5;
/** A re-send is only worth it with this much of the deadline left. */
const RESEND_MIN_MS = 500;

/** Runs a planned transaction; a cancellation comes back as facts, an unknown outcome as such, anything else throws. */
export async function runTransaction(plan: PlannedTransaction): Promise<TransactionResult> {
  const token = plan.input.ClientRequestToken;
  let unknown = false;
  for (let resend = 0; ; resend++) {
    try {
      await send(new TransactWriteCommand(plan.input), ['TransactionCanceledException']);
      takeMaybeApplied(token);
      return { ok: true };
    } catch (error) {
      unknown = takeMaybeApplied(token) || unknown;
      if ((error as { name?: string }).name === 'TransactionCanceledException') {
        return { ok: false, cancellation: readCancellation(plan, error as CancellationError) };
      }
      if (!isUnavailable(error)) throw error;
      // Nothing can have been written: the 503 says so.
      if (!unknown) throw error;
      const wait = Math.min(1000, 50 * 2 ** resend) * (0.5 + Math.random() / 2);
      if (resend >= MAX_RESENDS || timeLeft() < wait + RESEND_MIN_MS) return { ok: false, unknown: true };
      await sleep(wait);
    }
  }
}

export interface CancellationError {
  CancellationReasons?: { Code?: string; Message?: string; Item?: Record<string, AttributeValue> }[];
}

export function readCancellation(plan: PlannedTransaction, error: CancellationError): Cancellation {
  const cancellation: Cancellation = {
    owners: new Map(),
    takenSourceAccounts: new Map(),
    conflict: false,
    throttled: false,
    ownWrite: false,
    freed: new Set(),
    notReleased: new Set(),
  };
  const newCustomer = plan.roles.find((r): r is Extract<ItemRole, { kind: 'customer' }> => r.kind === 'customer')?.customerId;
  const taken = (customerId: number, sourceAccount: string) => {
    const set = cancellation.takenSourceAccounts.get(customerId) ?? new Set<string>();
    set.add(sourceAccount);
    cancellation.takenSourceAccounts.set(customerId, set);
  };
  (error.CancellationReasons ?? []).forEach((reason, index) => {
    const role = plan.roles[index];
    if (reason.Code === 'TransactionConflict') cancellation.conflict = true;
    else if (reason.Code === 'ThrottlingError' || reason.Code === 'ProvisionedThroughputExceeded') cancellation.throttled = true;
    else if (reason.Code && reason.Code !== 'None' && reason.Code !== 'ConditionalCheckFailed') {
      // Anything else (a ValidationError, an item too large) would fail again unchanged.
      throw new Error(`transaction cancelled for item ${index}: ${reason.Code} ${reason.Message ?? ''}`);
    }
    if (reason.Code !== 'ConditionalCheckFailed' || !role) return;
    const old = reason.Item ? unmarshall(reason.Item) : undefined;
    switch (role.kind) {
      case 'customer':
        // The new customer's id was drawn twice: nothing to learn, the next attempt draws again.
        break;
      case 'identifier':
        if (old && typeof old.customerId === 'number') {
          if (old.customerId === newCustomer) cancellation.ownWrite = true;
          cancellation.owners.set(role.key, old.customerId);
          for (const sa of (old.customerSourceAccounts as string[] | undefined) ?? []) taken(old.customerId, sa);
        } else if (!old) {
          // A merge's re-check of a value that its customer no longer holds (erased, changed).
          cancellation.freed.add(role.key);
        }
        break;
      case 'customerVersion':
        // A change re-sent after it was applied finds its own token on the item.
        if (old?.writtenBy === plan.input.ClientRequestToken) cancellation.ownWrite = true;
        else cancellation.customerChanged = { activity: old?.activity as string | undefined };
        break;
      case 'customerRoom':
        if (old?.activity === 'ACTIVE' && typeof old.profileCount === 'number') {
          cancellation.full = { customerId: role.customerId, profileCount: old.profileCount };
        } else cancellation.customerChanged = { activity: old?.activity as string | undefined };
        break;
      case 'mergedProfileChange':
        // The profile item went away under the change: the customer changed.
        cancellation.customerChanged ??= { activity: undefined };
        break;
      case 'release':
        cancellation.notReleased.add(role.key);
        break;
      case 'profile':
        if (old?.writtenBy === plan.input.ClientRequestToken) cancellation.ownWrite = true;
        taken(role.customerId, role.sourceAccount);
        break;
      case 'idempotencyRecord':
        cancellation.record = recordOf(old);
        break;
    }
  });
  return cancellation;
}
