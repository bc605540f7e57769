import { randomInt } from 'node:crypto';
import { handler as addHandler } from '../../handlers/addCustomer';
import { handler as getHandler } from '../../handlers/getCustomer';
import { handler as lookupHandler } from '../../handlers/lookupCustomer';
import { handler as updateHandler } from '../../handlers/updateCustomer';
import { handler as changeIdentifierHandler } from '../../handlers/changeIdentifier';
import { handler as eraseHandler } from '../../handlers/eraseCustomer';
import { handler as exportHandler } from '../../handlers/exportCustomer';
import { handler as mergeHandler } from '../../handlers/mergeCustomers';
import { handler as unmergeHandler } from '../../handlers/unmergeCustomer';
import { handler as historyHandler } from '../../handlers/customerHistory';
import { apiEvent, call, codes, type EventOptions, type Reply } from './http';
import { customerItems } from './table';

// Short ways to call the customer routes through their real handlers.

export const addCustomer = (body: unknown, options?: EventOptions) =>
  call(addHandler as never, apiEvent('POST', '/v2/customers', body, options));

export const getCustomer = (id: number | string, options?: EventOptions) =>
  call(getHandler as never, apiEvent('GET', `/v2/customers/${id}`, undefined, { ...options, pathParameters: { id: String(id) } }));

export const lookup = (query: Record<string, string>, options?: EventOptions) =>
  call(lookupHandler as never, apiEvent('GET', '/v2/customers/lookup', undefined, { ...options, query }));

export const updateCustomer = (id: number | string, body: unknown, options?: EventOptions) =>
  call(updateHandler as never, apiEvent('PUT', `/v2/customers/${id}`, body, { ...options, pathParameters: { id: String(id) } }));

export const changeIdentifier = (id: number | string, body: unknown, options?: EventOptions) =>
  call(
    changeIdentifierHandler as never,
    apiEvent('POST', `/v2/customers/${id}/changeIdentifier`, body, { ...options, pathParameters: { id: String(id) } }),
  );

export const eraseCustomer = (id: number | string, options?: EventOptions) =>
  call(eraseHandler as never, apiEvent('DELETE', `/v2/customers/${id}`, undefined, { ...options, pathParameters: { id: String(id) } }));

export const exportCustomer = (id: number | string, options?: EventOptions) =>
  call(
    exportHandler as never,
    apiEvent('GET', `/v2/customers/${id}/export`, undefined, { ...options, pathParameters: { id: String(id) } }),
  );

export const mergeCustomers = (survivorId: number | string, body: unknown, options?: EventOptions) =>
  call(
    mergeHandler as never,
    apiEvent('POST', `/v2/customers/${survivorId}/merge`, body, { ...options, pathParameters: { id: String(survivorId) } }),
  );

export const unmergeCustomer = (id: number | string, body: unknown, options?: EventOptions) =>
  call(unmergeHandler as never, apiEvent('POST', `/v2/customers/${id}/unmerge`, body, { ...options, pathParameters: { id: String(id) } }));

export const customerHistory = (id: number | string, options?: EventOptions) =>
  call(
    historyHandler as never,
    apiEvent('GET', `/v2/customers/${id}/history`, undefined, { ...options, pathParameters: { id: String(id) } }),
  );

const used = new Set<string>();
/** A valid Indian mobile number (national form) not used before in this test file. */
export function uniqueMobile(): string {
  for (;;) {
    const mobile = `9${String(randomInt(0, 1_000_000_000)).padStart(9, '0')}`;
    if (!used.has(mobile)) {
      used.add(mobile);
      return mobile;
    }
  }
}

export function instoreProfile(identifiers: { type: string; value: string }[], extra: Record<string, unknown> = {}) {
  return { source: 'INSTORE', firstName: 'Asha', lastName: 'Rao', identifiers, ...extra };
}

/** Sends a request that must be refused and checks that no customer data changed. */
export async function expectRefused(body: unknown, status: number, expectedCodes: unknown, options?: EventOptions): Promise<Reply> {
  const before = await customerItems();
  const reply = await addCustomer(body, options);
  expect(reply.status).toBe(status);
  expect(codes(reply)).toEqual(expectedCodes);
  for (const error of reply.body.errors) expect(error.status).toBe(false);
  expect(await customerItems()).toEqual(before);
  return reply;
}

/** Registers (expecting 200 without errors) and returns the reply and the GET document. */
export async function registerAndGet(body: Record<string, unknown>, options?: EventOptions): Promise<{ reply: Reply; customer: any }> {
  const reply = await addCustomer(body, options);
  expect(reply.status).toBe(200);
  expect(codes(reply)).toEqual([]);
  const customer = await getCustomer(reply.body.createdId, options);
  expect(customer.status).toBe(200);
  return { reply, customer: customer.body };
}
