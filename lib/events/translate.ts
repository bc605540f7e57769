// From a change of a customer's items to the events it means (SPEC section 10): pure, so that
// every case is a unit test. A new customer item is `customer.created`; a customer item whose
// profile count rose is `customer.merged` (the merge's summary is on the item); a changed
// customer item is `customer.erased` when it became a tombstone, else
// `customer.identifiers_changed` and/or `customer.updated`; a merged profile item changed by an
// update or an identifier change tells its own.
// Every event carries the time the write recorded on the item (`changedAt`, to the millisecond)
// and the customer's version after the change (`sequence`). Event ids are derived from what
// changed, so a redelivered record gives the same ids.

import { createHash } from 'node:crypto';
import { identifierTypesOf, sourceAccountOf, type Origin, type Profile, type UnmergeSummary } from '../customer';
import type { CustomerChange, StoredCustomer } from '../store/stream';
import { stableJson } from '../text';
import { EVENT_VERSION, type CustomerEvent, type EventType, type ThinData } from './event';

export function eventsOf(change: CustomerChange): CustomerEvent[] {
  if (change.kind === 'profile') {
    // A profile item added by a merge is told by the customer item the merge also wrote.
    if (change.change === 'modify' && change.previous) return profileModificationEvents(change, change.previous, change.profile);
    return [];
  }
  if (change.change === 'insert' && change.after) {
    const profiles = change.after.profiles ?? [];
    const unmerge = change.after.lastUnmerge;
    // A customer split out of another by an unmerge (SPEC section 15).
    if (unmerge && unmerge.to === change.customerId) return [unmergedEvent(change, change.after, unmerge)];
    return [
      event(change, 'customer.created', change.after.origin, [], stamp(change.after, change), {
        sourceAccounts: profiles.map(sourceAccountOf),
        identifierTypes: identifierTypesOf(profiles),
      }),
    ];
  }
  if (change.change === 'modify' && change.before && change.after) return modificationEvents(change, change.before, change.after);
  // A customer item is never deleted (an erase leaves a tombstone): nothing to tell.
  return [];
}

function modificationEvents(change: CustomerChange & { kind: 'customer' }, before: StoredCustomer, after: StoredCustomer): CustomerEvent[] {
  const discriminator = [String(after.version ?? change.recordId)];
  const at = stamp(after, change);
  // The item's origin is how the customer was created; only the API's routes change a customer.
  const origin = undefined;
  if (isErased(after) && !isErased(before)) {
    return [
      event(change, 'customer.erased', origin, discriminator, at, {
        sourceAccounts: after.erased?.sourceAccounts ?? [],
        identifierTypes: after.erased?.identifierTypes ?? [],
      }),
    ];
  }
  if (isErased(after)) return [];
  // A victim of an explicit merge: the survivor's customer.merged tells it.
  if (after.activity === 'MERGED' || after.activity === 'MERGING') return [];
  const unmerge = after.lastUnmerge;
  if (unmerge && (before.activity === 'MERGED' || stableJson(before.lastUnmerge ?? null) !== stableJson(unmerge))) {
    return [unmergedEvent(change, after, unmerge)];
  }
  if ((after.profileCount ?? 0) > (before.profileCount ?? 0) && after.lastMerge) {
    const merge = after.lastMerge;
    return [
      event(change, 'customer.merged', merge.origin, discriminator, at, {
        sourceAccounts: merge.sourceAccounts,
        identifierTypes: merge.identifierTypes,
        ...(merge.victimId !== undefined ? { victimId: merge.victimId } : {}),
      }),
    ];
  }
  const events: CustomerEvent[] = [];
  const identifiersChanged = changedProfiles(before.profiles, after.profiles, identifierSignature);
  if (identifiersChanged.length > 0) {
    events.push(
      event(change, 'customer.identifiers_changed', origin, discriminator, at, {
        sourceAccounts: identifiersChanged.map(sourceAccountOf),
        identifierTypes: changedIdentifierTypes(before.profiles, after.profiles),
      }),
    );
  }
  const detailsChanged = changedProfiles(before.profiles, after.profiles, detailSignature);
  const customerLevelChanged =
    before.loyaltyType !== after.loyaltyType || stableJson(before.extendedFields) !== stableJson(after.extendedFields);
  if (detailsChanged.length > 0 || customerLevelChanged) {
    events.push(
      event(change, 'customer.updated', origin, discriminator, at, {
        sourceAccounts: detailsChanged.map(sourceAccountOf),
        identifierTypes: [],
      }),
    );
  }
  return events;
}

/** Both customers of an unmerge tell it: the one the profile left and the one it went to. */
function unmergedEvent(change: CustomerChange & { kind: 'customer' }, after: StoredCustomer, unmerge: UnmergeSummary): CustomerEvent {
  return event(change, 'customer.unmerged', undefined, [String(after.version ?? change.recordId)], stamp(after, change), {
    sourceAccounts: [unmerge.profile.accountId ? `${unmerge.profile.source}#${unmerge.profile.accountId}` : unmerge.profile.source],
    identifierTypes: [...new Set(unmerge.moved.map((i) => i.type))].sort(),
    fromId: unmerge.from,
    toId: unmerge.to,
  });
}

/**
 * A merged profile changed by an update or an identifier change (its own item, not the customer
 * item's profiles). The customer item's record of the same change tells only customer-level parts.
 */
function profileModificationEvents(change: CustomerChange & { kind: 'profile' }, before: Profile, after: Profile): CustomerEvent[] {
  const discriminator = [change.sourceAccount, String(change.version ?? change.recordId)];
  const at = stamp(change, change);
  const events: CustomerEvent[] = [];
  if (identifierSignature(before) !== identifierSignature(after)) {
    events.push(
      event(change, 'customer.identifiers_changed', undefined, discriminator, at, {
        sourceAccounts: [change.sourceAccount],
        identifierTypes: changedIdentifierTypes([before], [after]),
      }),
    );
  }
  if (detailSignature(before) !== detailSignature(after)) {
    events.push(
      event(change, 'customer.updated', undefined, discriminator, at, { sourceAccounts: [change.sourceAccount], identifierTypes: [] }),
    );
  }
  return events;
}

function isErased(customer: StoredCustomer): boolean {
  return customer.activity === 'ERASED';
}

/** When and at which version of the customer a change was written. */
interface Stamp {
  occurredAt: string;
  sequence: number;
}

/**
 * The item's own record of the change: `changedAt` and `version` as the write set them. An item
 * written before they were recorded falls back to the stream's time and version 1.
 */
function stamp(item: { changedAt?: string; version?: number }, change: CustomerChange): Stamp {
  return { occurredAt: item.changedAt ?? change.at.toISOString(), sequence: item.version ?? 1 };
}

function event(
  change: CustomerChange,
  type: EventType,
  origin: Origin | undefined,
  discriminator: string[],
  at: Stamp,
  data: ThinData,
): CustomerEvent {
  const { orgId, customerId } = change;
  return {
    id: eventId(type, orgId, customerId, discriminator),
    type,
    version: EVENT_VERSION,
    orgId,
    customerId,
    occurredAt: at.occurredAt,
    origin: origin ?? 'api',
    sequence: at.sequence,
    data,
  };
}

/** `evt_` and 32 hex digits of a hash of what the event is about. */
export function eventId(type: EventType, orgId: number, customerId: number, discriminator: string[]): string {
  const digest = createHash('sha256')
    .update([type, orgId, customerId, ...discriminator].join('\u0000'))
    .digest('hex');
  return `evt_${digest.slice(0, 32)}`;
}

function identifierSignature(profile: Profile): string {
  const values = (profile.identifiers ?? []).map((i) => `${i.type}#${i.value}`);
  if (profile.card?.cardNumber) values.push(`card#${profile.card.cardNumber}`);
  return values.sort().join('\u0000');
}

function detailSignature(profile: Profile): string {
  return stableJson({
    firstName: profile.firstName,
    lastName: profile.lastName,
    fields: profile.fields,
    commChannels: profile.commChannels,
  });
}

/** The profiles (of after, or removed from before) whose signature differs. */
function changedProfiles(before: Profile[] = [], after: Profile[] = [], signature: (p: Profile) => string): Profile[] {
  const old = new Map(before.map((p) => [sourceAccountOf(p), signature(p)]));
  const changed = after.filter((p) => old.get(sourceAccountOf(p)) !== signature(p));
  const kept = new Set(after.map(sourceAccountOf));
  return [...changed, ...before.filter((p) => !kept.has(sourceAccountOf(p)))];
}

/**
 * The types of the identifiers added to or removed from a profile, compared source account by
 * source account: a value that one profile drops while another keeps it (a mobile shared by two
 * profiles), or that moves between profiles, changed too.
 */
function changedIdentifierTypes(before: Profile[] = [], after: Profile[] = []): string[] {
  const valuesBySourceAccount = (profiles: Profile[]) =>
    new Map(profiles.map((p) => [sourceAccountOf(p), new Set(identifierSignature(p).split('\u0000').filter(Boolean))]));
  const old = valuesBySourceAccount(before);
  const now = valuesBySourceAccount(after);
  const types = new Set<string>();
  for (const account of new Set([...old.keys(), ...now.keys()])) {
    const was = old.get(account) ?? new Set<string>();
    const is = now.get(account) ?? new Set<string>();
    for (const value of is) if (!was.has(value)) types.add(value.split('#')[0]);
    for (const value of was) if (!is.has(value)) types.add(value.split('#')[0]);
  }
  return [...types].sort();
}
