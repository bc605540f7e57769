// The registration core every way in shares: a single add, each item of a bulk add, each line
// of an import. Preparing (validation and reading) costs no DynamoDB request; registering runs
// the register loop, idempotently when a record key is given, and settles the response the
// outcome gets, exactly as `POST /v2/customers` answers it.

import { ApiError, statusList } from '../errors';
import { replayOf } from '../idempotency';
import type { OrgConfig } from '../org';
import type { Registration } from '../customer';
import { readRegistration, type RegistrationContext } from '../registration/read';
import { finishSteppedWork } from '../lifecycle/steppedWork';
import { registerCustomer, type Registered, type Rejected } from '../registration/register';
import type { AddCustomerResponse } from '../schemas/responses.schema';
import { checkAddCustomerBody } from '../schemas/validate';
import type { RecordKey, StoredResponse } from '../store/idempotencyRecords';
import { storedRefusal, storedSuccess } from './writes';

export type Settled =
  | { kind: 'created' | 'merged'; customerId: number; response: AddCustomerResponse }
  /** Refused by validation (400) or by the identity rules (409); nothing written but a 409's record. */
  | { kind: 'rejected'; error: ApiError }
  /** The record of an earlier request with the same key and body: its response, as it was. */
  | { kind: 'replayed'; response: StoredResponse };

/** Validates and reads a body: the registration, or the error it gets (never thrown). */
export function prepareRegistration(body: unknown, context: RegistrationContext): Registration | ApiError {
  try {
    const checked = checkAddCustomerBody(body);
    return readRegistration(checked.body, checked.warnings, context);
  } catch (error) {
    if (error instanceof ApiError) return error;
    throw error;
  }
}

/**
 * Registers a prepared registration. With a record key the outcome is recorded (200 and 409)
 * and a repeat replays it; a key used with another request throws 422. Faults throw 503.
 */
export async function registerPrepared(registration: Registration, org: OrgConfig, key?: RecordKey): Promise<Settled> {
  const outcome = await registerCustomer(registration, org, {
    // A merge or unmerge cut short between its steps is finished by the registration that meets it.
    finishSteps: (orgId, customerId) => finishSteppedWork(orgId, customerId),
    ...(key ? { idempotency: { key, response: storedResponseOf } } : {}),
  });
  switch (outcome.kind) {
    case 'created':
    case 'merged':
      return { kind: outcome.kind, customerId: outcome.customerId, response: responseOf(outcome) };
    case 'rejected':
      return { kind: 'rejected', error: new ApiError(outcome.problems, outcome.warnings) };
    case 'recorded':
      return { kind: 'replayed', response: replayOf(key!, outcome.record) };
  }
}

/** The response an outcome gets, as its idempotency record keeps it. */
function storedResponseOf(outcome: Registered | Rejected): StoredResponse {
  return outcome.kind === 'rejected' ? storedRefusal(outcome.problems, outcome.warnings) : storedSuccess(responseOf(outcome));
}

function responseOf(registered: Registered): AddCustomerResponse {
  return { createdId: registered.customerId, warnings: statusList(registered.warnings), sideEffects: registered.sideEffects };
}
