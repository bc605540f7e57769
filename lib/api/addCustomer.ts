import type { Caller } from '../auth';
import { readRegistration } from '../registration/read';
import { registerCustomer, type RegisterOptions, type RegistrationResult } from '../registration/register';
import { checkAddCustomerBody } from '../schemas/validate';

export interface AddCustomerRequest {
  body: unknown;
  query: { source?: string; accountId?: string };
  caller: Caller;
}

/** `POST /v2/customers`: validate, read, register (SPEC section 3). */
export async function addCustomer(request: AddCustomerRequest, options: RegisterOptions = {}): Promise<RegistrationResult> {
  const { body, warnings } = checkAddCustomerBody(request.body);
  const registration = readRegistration(body, warnings, {
    org: request.caller.org,
    till: request.caller.till,
    query: request.query,
    now: new Date(),
  });
  return registerCustomer(registration, request.caller.org, options);
}
