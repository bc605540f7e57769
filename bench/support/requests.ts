import { randomInt, randomUUID } from 'node:crypto';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { apiEvent, type EventOptions } from '../../test/support/http';

// Request bodies of the kinds the benchmarks measure, with identifier values that no other
// request of the process uses, and the Lambda plumbing to send them to a handler.

export type Handler = (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;

export interface Identity {
  mobile: string;
  email: string;
  externalId: string;
}

let sequence = 0;
/** A random 9-digit block per process, so two runs against one table do not collide either. */
const block = randomInt(0, 90_000) * 10_000;
const run = randomUUID().slice(0, 8);

/** Values for a new customer: a valid Indian mobile (national form), an email, an external id. */
export function newIdentity(): Identity {
  sequence += 1;
  const n = block + sequence;
  return {
    mobile: `9${String(n).padStart(9, '0')}`,
    email: `bench.${run}.${sequence}@example.com`,
    externalId: `EXT-${run}-${sequence}`,
  };
}

function identifiers(identity: Partial<Identity>): { type: string; value: string }[] {
  const list: { type: string; value: string }[] = [];
  if (identity.mobile) list.push({ type: 'mobile', value: identity.mobile });
  if (identity.email) list.push({ type: 'email', value: identity.email });
  if (identity.externalId) list.push({ type: 'externalId', value: identity.externalId });
  return list;
}

/** The typical registration: mobile, email and externalId, INSTORE, default enrollment. */
export function typicalBody(identity: Identity = newIdentity()): Record<string, unknown> {
  return {
    profiles: [{ source: 'INSTORE', firstName: 'Asha', lastName: 'Rao', identifiers: identifiers(identity) }],
  };
}

/**
 * The full registration: the typical one plus a generated card of series 501 DEMO-GEN, org 100's
 * extended fields, and an enrollment in program 2 with points.
 */
export function fullBody(identity: Identity = newIdentity()): Record<string, unknown> {
  return {
    loyaltyType: 'loyalty',
    profiles: [
      {
        source: 'INSTORE',
        firstName: 'Asha',
        lastName: 'Rao',
        identifiers: [...identifiers(identity), { type: 'card', seriesId: 501, statusLabel: 'ACTIVE' }],
      },
    ],
    extendedFields: {
      gender: 'Female',
      dob: '1991-04-12',
      city: 'Pune',
      preferred_store: 'Koregaon Park',
      nationality: 'IN',
      age_group: '25-34',
      household_size: 3,
      annual_income: 850000.5,
      marketing_opt_in_at: '2024-05-01T10:00:00+05:30',
    },
    loyaltyProgramEnrollments: [
      {
        programId: 2,
        tierNumber: 2,
        loyaltyPoints: 500,
        tierExpiryDate: '2030-12-31T23:59:59+05:30',
        pointsExpiryDate: '2030-12-31T23:59:59+05:30',
      },
    ],
  };
}

/** A profile in another source (WEBSITE) with a known mobile and a new email: a merge. */
export function mergeBody(known: Identity, fresh: Identity = newIdentity()): Record<string, unknown> {
  return {
    profiles: [{ source: 'WEBSITE', firstName: 'Asha', identifiers: identifiers({ mobile: known.mobile, email: fresh.email }) }],
  };
}

/** The same source again with a known mobile: 409, 8006. */
export function sameSourceBody(known: Identity): Record<string, unknown> {
  return { profiles: [{ source: 'INSTORE', identifiers: identifiers({ mobile: known.mobile }) }] };
}

/** Identifiers of two different customers: 409, 8052. */
export function conflictBody(first: Identity, second: Identity): Record<string, unknown> {
  return { profiles: [{ source: 'INSTORE', identifiers: identifiers({ mobile: first.mobile, email: second.email }) }] };
}

/** An invalid mobile: 400, 8014. */
export function rejectedBody(): Record<string, unknown> {
  return { profiles: [{ source: 'INSTORE', identifiers: [{ type: 'mobile', value: '12' }] }] };
}

export function postEvent(body: unknown, options?: EventOptions): APIGatewayProxyEvent {
  return apiEvent('POST', '/v2/customers', body, options);
}

let invocation = 0;
export function lambdaContext(): Context {
  invocation += 1;
  return {
    awsRequestId: `bench-${run}-${invocation}`,
    functionName: 'addCustomer',
    getRemainingTimeInMillis: () => 10_000,
  } as unknown as Context;
}

export interface Reply {
  status: number;
  body: any;
}

export async function send(handler: Handler, body: unknown, options?: EventOptions): Promise<Reply> {
  const result = await handler(postEvent(body, options), lambdaContext());
  return { status: result.statusCode, body: result.body ? JSON.parse(result.body) : undefined };
}
