import type { Caller } from '../auth';
import { asStatusList } from '../http/response';
import { idempotencyRecord, onExistingRecord, readIdempotencyKey, replayIfRecorded } from '../idempotency';
import { takeRequest } from '../rateLimit';
import { readRegistration } from '../registration/read';
import { registerCustomer, type RegisterOptions, type RegistrationResult } from '../registration/register';
import { checkAddCustomerBody } from '../schemas/validate';

export interface AddCustomerRequest {
  body: unknown;
  query: { source?: string; accountId?: string };
  caller: Caller;
  /** `Idempotency-Key` header, if sent. */
  idempotencyKey?: string;
  /** The request as sent (body and the query that fills profiles), to tell a replay from a reuse. */
  requestText?: string;
  /** Receives the X-RateLimit-* headers once the request has been counted. */
  onRateCounted?: (headers: Record<string, string>) => void;
}

export interface AddCustomerResponse {
  createdId: number;
  warnings: ReturnType<typeof asStatusList>;
  sideEffects: RegistrationResult['sideEffects'];
}

/**
 * `POST /v2/customers`: validate, read, count against the org's rate limit, register (SPEC
 * sections 3 and 6), idempotently when asked. A request refused before it is counted costs
 * no DynamoDB request at all.
 */
export async function addCustomer(request: AddCustomerRequest): Promise<{ response: AddCustomerResponse; result: RegistrationResult }> {
  const { org, till } = request.caller;
  const key = readIdempotencyKey(org.orgId, request.idempotencyKey, request.requestText ?? JSON.stringify(request.body));
  const { body, warnings } = checkAddCustomerBody(request.body);
  const registration = readRegistration(body, warnings, { org, till, query: request.query, now: new Date() });
  const rate = await takeRequest(org);
  request.onRateCounted?.(rate.headers);
  const options: RegisterOptions = key
    ? {
        extras: (pending) => [idempotencyRecord(key, { statusCode: 200, body: JSON.stringify(responseOf(pending)) })],
        onExtraConflict: (cancellation) => onExistingRecord(key, cancellation),
        beforeReject: () => replayIfRecorded(key),
      }
    : {};
  const result = await registerCustomer(registration, org, options);
  return { response: responseOf(result), result };
}

export function responseOf(result: RegistrationResult): AddCustomerResponse {
  return { createdId: result.createdId, warnings: asStatusList(result.warnings), sideEffects: result.sideEffects };
}
