import type { Caller } from '../auth';
import { ApiError } from '../errors';
import { normaliseIdentifier } from '../identifiers';
import { sourceAccountOf } from '../registration/model';
import { findOwner, loadCustomer } from '../store/customers';
import { canonicalIdentifierType, MULTI_ACCOUNT_SOURCES, SOURCES, type Source } from '../vocabulary';
import { customerDocument } from './customerDocument';

/** The read routes of SPEC section 5. */

/** `GET /v2/customers/{id}`. Another org's customer is as unknown as a missing one. */
export async function getCustomer(caller: Caller, rawId: string | undefined) {
  const id = /^\d{1,16}$/.test(rawId ?? '') ? Number(rawId) : NaN;
  const customer = Number.isSafeInteger(id) && id > 0 ? await loadCustomer(caller.org.orgId, id) : undefined;
  if (!customer) throw ApiError.of(8015, 'customer not found', '/id');
  return customerDocument(customer, caller.org);
}

export interface LookupQuery {
  source?: string;
  accountId?: string;
  identifierName?: string;
  identifierValue?: string;
}

/** `GET /v2/customers/lookup`: the customer owning an identifier, optionally in one source. */
export async function lookupCustomer(caller: Caller, query: LookupQuery) {
  const source = query.source?.trim();
  const problems: ApiError['problems'] = [];
  if (!source) problems.push({ code: 8001, message: 'source is required', path: '/source' });
  else if (source !== 'ALL' && !(SOURCES as readonly string[]).includes(source)) {
    problems.push({ code: 8003, message: `invalid source ${source}`, path: '/source' });
  }
  const name = query.identifierName?.trim();
  const rawValue = query.identifierValue;
  if (!name) problems.push({ code: 8002, message: 'identifierName is required', path: '/identifierName' });
  if (rawValue === undefined || rawValue.trim() === '') {
    problems.push({ code: 8002, message: 'identifierValue is required', path: '/identifierValue' });
  } else if (rawValue.length > 255) {
    problems.push({ code: 400, message: 'identifierValue is longer than 255 characters', path: '/identifierValue' });
  }
  const type = name ? canonicalIdentifierType(name) : undefined;
  if (name && !type) problems.push({ code: 8002, message: `unknown identifier ${name}`, path: '/identifierName' });
  if (problems.length > 0) throw new ApiError(problems);

  const normalised = normaliseIdentifier(type!, rawValue!, caller.org.baseCountry);
  if (!normalised.ok) {
    const code = type === 'mobile' ? 8014 : type === 'email' ? 8055 : 400;
    throw ApiError.of(code, `invalid ${type}: ${normalised.reason}`, '/identifierValue');
  }
  const owner = await findOwner(caller.org.orgId, { type: type!, value: normalised.value });
  if (owner === undefined) throw ApiError.of(8015, 'customer not found');
  if (source !== 'ALL') {
    const customer = await loadCustomer(caller.org.orgId, owner);
    // Single-account sources have no account ids; one sent is ignored, as on registration.
    const accountId = MULTI_ACCOUNT_SOURCES.has(source as Source) ? query.accountId?.trim() : undefined;
    const inSource = (customer?.profiles ?? []).some(
      (p) => p.source === (source as Source) && (!accountId || sourceAccountOf(p) === sourceAccountOf({ source: p.source, accountId })),
    );
    if (!inSource) throw ApiError.of(8065, `customer has no profile in ${source}${accountId ? ` account ${accountId}` : ''}`);
  }
  return { entity: owner, warnings: [] };
}

/** `GET /v2/extendedFields`: the caller's org's customer extended fields. */
export function extendedFields(caller: Caller) {
  return {
    entity: {
      customer: caller.org.extendedFields.map(({ name, label, dataType, enumValues, maxLength }) => ({
        name,
        label,
        dataType,
        ...(enumValues ? { enumValues } : {}),
        ...(maxLength !== undefined ? { maxLength } : {}),
      })),
    },
    warnings: [],
    errors: [],
    success: true,
  };
}
