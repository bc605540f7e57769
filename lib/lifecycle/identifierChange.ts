// `POST /v2/customers/{id}/changeIdentifier` as rules (SPEC section 11): a schema-valid body
// read into the values to add and remove (normalised and guarded as on registration), and that
// change applied to one profile of a customer as read. Pure; changeLoop.ts writes the result in
// one transaction that claims the added values and releases the removed ones.
//
// A value may be listed by several profiles of one customer (a merge keeps the mobile it came
// through on both): its item is released only when no profile lists it any more.

import { identifierKeyOf, uniqueIdentifiers, type Card, type Customer, type Identifier, type Profile } from '../customer';
import { Code, identifierProblemCode, Problems, warning, type Problem, type Warning } from '../errors';
import { guardOf, isBlocked } from '../identityGuards';
import { normaliseIdentifier } from '../identifiers';
import type { OrgConfig } from '../org';
import { readCard } from '../registration/readCard';
import type { ChangeIdentifierBody } from '../schemas/changeIdentifier.schema';
import { canonicalIdentifierType } from '../vocabulary';

/** A value to add or remove, with the place in the request that named it. */
export interface NamedIdentifier {
  identifier: Identifier;
  path: string;
}

export interface IdentifierChange {
  add: NamedIdentifier[];
  /** A card to link; its number is empty while its series still has to draw one. */
  card?: { card: Card; path: string };
  remove: NamedIdentifier[];
  warnings: Warning[];
}

/** Reads a schema-valid body; throws every problem found at once. */
export function readIdentifierChange(body: ChangeIdentifierBody, schemaWarnings: Warning[], org: OrgConfig, now: string): IdentifierChange {
  const problems = new Problems();
  const guard = guardOf(org);
  const change: IdentifierChange = { add: [], remove: [], warnings: [...schemaWarnings] };
  const add = body.add ?? [];
  const remove = body.remove ?? [];
  if (add.length === 0 && remove.length === 0)
    problems.add(Code.badRequest, 'nothing to change: send identifiers to add or remove', '/add');

  add.forEach((raw, index) => {
    const at = `/add/${index}`;
    const type = canonicalIdentifierType(raw.type);
    if (!type) return problems.add(Code.badRequest, `unknown identifier type ${raw.type}`, `${at}/type`);
    if (type === 'card') {
      if (change.card) return problems.add(Code.severalCards, 'at most one card per request', at);
      const card = readCard(raw, at, org, now, problems);
      if (card) change.card = { card, path: at };
      return;
    }
    if (raw.value === undefined) return problems.add(Code.badRequest, `${type} identifier without value`, `${at}/value`);
    const normalised = normaliseIdentifier(type, raw.value, org.baseCountry);
    if (!normalised.ok) return problems.add(identifierProblemCode(type), `invalid ${type}: ${normalised.reason}`, `${at}/value`);
    const identifier = { type, value: normalised.value };
    // A placeholder never becomes an identifier (SPEC section 13).
    if (isBlocked(guard, identifier)) {
      if (guard.onBlocked === 'reject')
        problems.add(identifierProblemCode(type), `${type} is a placeholder the org does not accept`, `${at}/value`);
      else change.warnings.push(warning(Code.ignored, `${type} is a placeholder, not an identifier; ignored`, `${at}/value`));
      return;
    }
    if (change.add.some((a) => a.identifier.type === type))
      return problems.add(Code.badRequest, `only one ${type} identifier per profile`, at);
    change.add.push({ identifier, path: at });
  });

  remove.forEach((raw, index) => {
    const at = `/remove/${index}`;
    const type = canonicalIdentifierType(raw.type);
    if (!type) return problems.add(Code.badRequest, `unknown identifier type ${raw.type}`, `${at}/type`);
    // A value that does not normalise cannot be stored: it is nobody's, so there is nothing to remove.
    const normalised =
      type === 'card' ? { ok: true as const, value: raw.value.trim() } : normaliseIdentifier(type, raw.value, org.baseCountry);
    if (!normalised.ok) return problems.add(identifierProblemCode(type), `invalid ${type}: ${normalised.reason}`, `${at}/value`);
    change.remove.push({ identifier: { type, value: normalised.value }, path: at });
  });
  problems.throwIfAny(change.warnings);
  return change;
}

export type AppliedIdentifierChange =
  | {
      kind: 'changed';
      after: Customer;
      /** Values to claim, each with the place that asked for it (for 8053). */
      claim: NamedIdentifier[];
      release: Identifier[];
      warnings: Warning[];
    }
  | { kind: 'rejected'; problems: Problem[]; warnings: Warning[] };

/**
 * Applies the change to the customer's profile at `index`: removals first, then additions, so
 * that replacing a value is one request. `card` is the card to link with its number drawn.
 */
export function applyIdentifierChange(
  customer: Customer,
  index: number,
  change: IdentifierChange,
  till: string,
  now: string,
): AppliedIdentifierChange {
  const warnings = [...change.warnings];
  const problems = new Problems();
  const profiles = customer.profiles.map((p) => ({ ...p, identifiers: [...p.identifiers] }));
  const profile: Profile = profiles[index];
  const heldByCustomer = new Set(uniqueIdentifiers(customer.profiles).map(identifierKeyOf));
  const removed: Identifier[] = [];

  for (const { identifier, path } of change.remove) {
    if (identifier.type === 'card') {
      if (profile.card?.cardNumber === identifier.value) {
        removed.push(identifier);
        delete profile.card;
      } else warnings.push(warning(Code.ignored, 'not a card of this profile; nothing removed', path));
      continue;
    }
    const at = profile.identifiers.findIndex((i) => identifierKeyOf(i) === identifierKeyOf(identifier));
    if (at < 0) {
      warnings.push(warning(Code.ignored, `not an identifier of this profile; nothing removed`, path));
      continue;
    }
    profile.identifiers.splice(at, 1);
    removed.push(identifier);
  }

  const claim: NamedIdentifier[] = [];
  for (const named of change.add) {
    const key = identifierKeyOf(named.identifier);
    const removedHere = removed.some((r) => identifierKeyOf(r) === key);
    if (heldByCustomer.has(key) && !removedHere) {
      warnings.push(warning(Code.ignored, 'already an identifier of this customer; nothing added', named.path));
      continue;
    }
    if (profile.identifiers.some((i) => i.type === named.identifier.type)) {
      problems.add(
        Code.badRequest,
        `the profile has a ${named.identifier.type} already: remove it in the same request to replace it`,
        named.path,
      );
      continue;
    }
    profile.identifiers.push(named.identifier);
    // Put back what this request removed: no write for it.
    if (!removedHere) claim.push(named);
    else
      removed.splice(
        removed.findIndex((r) => identifierKeyOf(r) === key),
        1,
      );
  }
  if (change.card) {
    const { card, path } = change.card;
    const key = identifierKeyOf({ type: 'card', value: card.cardNumber });
    if (profile.card) problems.add(Code.severalCards, 'the profile has a card already: remove it in the same request to replace it', path);
    else if (heldByCustomer.has(key) && !removed.some((r) => identifierKeyOf(r) === key)) {
      warnings.push(warning(Code.ignored, 'already a card of this customer; nothing added', path));
    } else {
      profile.card = { ...card, issuedDate: now };
      const removedAt = removed.findIndex((r) => identifierKeyOf(r) === key);
      if (removedAt >= 0) removed.splice(removedAt, 1);
      else claim.push({ identifier: { type: 'card', value: card.cardNumber }, path });
    }
  }
  if (profile.identifiers.length === 0 && !profile.card) {
    problems.add(Code.profileWithoutIdentifier, 'the change would leave the profile without an identifier', '/remove');
  }
  if (!problems.empty) return { kind: 'rejected', problems: problems.list, warnings };

  profile.modifiedDate = now;
  profile.modifiedBy = till;
  // A removed value another profile of the customer still lists stays the customer's.
  const stillListed = new Set(uniqueIdentifiers(profiles).map(identifierKeyOf));
  const release = removed.filter((r) => !stillListed.has(identifierKeyOf(r)));
  return { kind: 'changed', after: { ...customer, profiles }, claim, release, warnings };
}
