// Sends a planned transaction, and reads a cancelled one back, reason by reason, into the facts
// the identity rules decide on: who owns which identifier, which source accounts are taken,
// whether the idempotency record was there already. No second read is needed.

import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { send } from './client';
import { recordOf, type IdempotencyRecord } from './idempotencyRecords';
import type { PlannedTransaction } from './plans';

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
}

export type TransactionResult = { ok: true } | { ok: false; cancellation: Cancellation };

/** Runs a planned transaction; a cancellation comes back as facts, anything else throws. */
export async function runTransaction(plan: PlannedTransaction): Promise<TransactionResult> {
  try {
    await send(new TransactWriteCommand(plan.input), ['TransactionCanceledException']);
    return { ok: true };
  } catch (error) {
    if ((error as { name?: string }).name !== 'TransactionCanceledException') throw error;
    return { ok: false, cancellation: readCancellation(plan, error as CancellationError) };
  }
}

export interface CancellationError {
  CancellationReasons?: { Code?: string; Message?: string; Item?: Record<string, AttributeValue> }[];
}

export function readCancellation(plan: PlannedTransaction, error: CancellationError): Cancellation {
  const cancellation: Cancellation = { owners: new Map(), takenSourceAccounts: new Map(), conflict: false, throttled: false };
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
          cancellation.owners.set(role.key, old.customerId);
          for (const sa of (old.customerSourceAccounts as string[] | undefined) ?? []) taken(old.customerId, sa);
        }
        break;
      case 'profile':
        taken(role.customerId, role.sourceAccount);
        break;
      case 'idempotencyRecord':
        cancellation.record = recordOf(old);
        break;
    }
  });
  return cancellation;
}
