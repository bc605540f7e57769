// The read routes of SPEC section 5.

import type { Caller } from '../auth';
import { ApiError, Code, identifierProblemCode, Problems, statusList, warning } from '../errors';
import { guardOf, isBlocked } from '../identityGuards';
import { MAX_IDENTIFIER_LENGTH, normaliseIdentifier } from '../identifiers';
import { findOwner, loadCustomer } from '../store/customers';
import { profileIn } from '../lifecycle/namedProfile';
import { canonicalIdentifierType, SOURCES, type Source } from '../vocabulary';
import { answer, type Answer } from './answer';
import { customerDocument } from './customerDocument';

/**
 * `GET /v2/customers/{id}`. Another org's customer is as unknown as a missing one, and so is an
 * erased one (or one being erased: SPEC section 12).
 */
export async function getCustomer(caller: Caller, rawId: string | undefined): Promise<Answer> {
  const id = customerIdOf(rawId);
  let customer = id !== undefined ? await loadCustomer(caller.org.orgId, id) : undefined;
  // A merged victim answers its survivor's document, saying so (SPEC section 15, Capillary's 91009);
  // so does one a stepped merge is moving into its survivor: the survivor holds its profiles already.
  for (
    let hops = 0;
    (customer?.activity === 'MERGED' || customer?.activity === 'MERGING') && customer.mergedInto !== undefined && hops < MAX_MERGE_HOPS;
    hops++
  ) {
    customer = await loadCustomer(caller.org.orgId, customer.mergedInto);
  }
  if (!customer || customer.activity !== 'ACTIVE') throw customerNotFound();
  const document = customerDocument(customer, caller.org);
  if (customer.id === id) return answer(200, document);
  return answer(200, {
    ...document,
    warnings: statusList([
      warning(Code.survivorReturned, `customer ${id} was merged into customer ${customer.id}: the survivor is returned`),
    ]),
  });
}

/** Survivors followed from a merged id (a survivor merged in turn into another). */
const MAX_MERGE_HOPS = 10;

/** A customer id from the path: a positive safe integer, else undefined (a 404 like any unknown id). */
export function customerIdOf(raw: string | undefined): number | undefined {
  const id = /^\d{1,16}$/.test(raw ?? '') ? Number(raw) : NaN;
  return Number.isSafeInteger(id) && id > 0 ? id : undefined;
}

export function customerNotFound(): ApiError {
  return ApiError.of(Code.customerNotFound, 'customer not found', '/id');
}

export interface LookupQuery {
  source?: string;
  accountId?: string;
  identifierName?: string;
  identifierValue?: string;
}

/** `GET /v2/customers/lookup`: the customer owning an identifier, optionally in one source. */
export async function lookupCustomer(caller: Caller, query: LookupQuery): Promise<Answer> {
  const source = query.source?.trim();
  const problems = new Problems();
  if (!source) problems.add(Code.lookupWithoutSource, 'source is required', '/source');
  else if (source !== 'ALL' && !(SOURCES as readonly string[]).includes(source)) {
    problems.add(Code.invalidSource, `invalid source ${source}`, '/source');
  }
  const name = query.identifierName?.trim();
  const rawValue = query.identifierValue;
  if (!name) problems.add(Code.lookupWithoutIdentifier, 'identifierName is required', '/identifierName');
  if (rawValue === undefined || rawValue.trim() === '') {
    problems.add(Code.lookupWithoutIdentifier, 'identifierValue is required', '/identifierValue');
  } else if (rawValue.length > MAX_IDENTIFIER_LENGTH) {
    problems.add(Code.badRequest, `identifierValue is longer than ${MAX_IDENTIFIER_LENGTH} characters`, '/identifierValue');
  }
  const type = name ? canonicalIdentifierType(name) : undefined;
  if (name && !type) problems.add(Code.lookupWithoutIdentifier, `unknown identifier ${name}`, '/identifierName');
  problems.throwIfAny();

  const normalised = normaliseIdentifier(type!, rawValue!, caller.org.baseCountry);
  if (!normalised.ok) throw ApiError.of(identifierProblemCode(type!), `invalid ${type}: ${normalised.reason}`, '/identifierValue');
  const identifier = { type: type!, value: normalised.value };
  // A placeholder is nobody's identifier (SPEC section 13): no read can find its owner.
  if (isBlocked(guardOf(caller.org), identifier)) throw ApiError.of(Code.customerNotFound, 'customer not found');
  const owner = await findOwner(caller.org.orgId, identifier);
  if (owner === undefined) throw ApiError.of(Code.customerNotFound, 'customer not found');
  if (source !== 'ALL') {
    const customer = await loadCustomer(caller.org.orgId, owner);
    const { index, accountId } = profileIn(customer?.profiles ?? [], source as Source, query.accountId);
    if (index < 0)
      throw ApiError.of(Code.noProfileInSource, `customer has no profile in ${source}${accountId ? ` account ${accountId}` : ''}`);
  }
  return answer(200, { entity: owner, warnings: [] });
}

/** `GET /v2/extendedFields`: the caller's org's customer extended fields. */
export function extendedFields(caller: Caller): Answer {
  return answer(200, {
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
  });
}
