// From a change of a customer's items to the entries of its history (SPEC section 15): pure, so
// that every case is a unit test, like the events (lib/events/translate.ts) from the same
// stream records. Each entry carries the customer's version after the change (`sequence`) and a
// discriminator, which together are its key: a redelivered record gives the same entries, written
// over themselves.

import {
  sourceAccountOf,
  type HistoryEntry,
  type HistoryType,
  type Identifier,
  type KeyedEntry,
  type Origin,
  type Profile,
  type ProfileRef,
  type UnmergeSummary,
} from '../customer';

export type { ProfileRef, UnmergeSummary };
import { escapePointer } from '../pointer';
import { stableJson } from '../text';
import type { CustomerChange } from '../store/stream';

export type { HistoryEntry, HistoryType, KeyedEntry } from '../customer';

export function profileRef(profile: Pick<Profile, 'source' | 'accountId'>): ProfileRef {
  return { source: profile.source, accountId: profile.accountId || null };
}

function refOfSourceAccount(sourceAccount: string): ProfileRef {
  const at = sourceAccount.indexOf('#');
  return at < 0
    ? { source: sourceAccount, accountId: null }
    : { source: sourceAccount.slice(0, at), accountId: sourceAccount.slice(at + 1) };
}

/** Whether the change is the erase of the customer: its history is deleted, not added to. */
export function isErasure(change: CustomerChange): boolean {
  return change.kind === 'customer' && change.after?.activity === 'ERASED' && change.before?.activity !== 'ERASED';
}

export function historyOf(change: CustomerChange): KeyedEntry[] {
  if (change.kind === 'profile') {
    if (change.change !== 'modify' || !change.previous) return [];
    const at = change.changedAt ?? change.at.toISOString();
    const stamp = { at, sequence: change.version ?? 1 };
    const till = change.profile.modifiedBy ?? change.profile.createdBy;
    return profileEntries(change.previous, change.profile, { ...stamp, till, requestId: change.changedBy?.requestId ?? '' }).map(
      (entry, i) => ({ discriminator: `P#${change.sourceAccount}#${i}`, entry }),
    );
  }
  const after = change.after;
  if (!after) return [];
  const base = {
    at: after.changedAt ?? change.at.toISOString(),
    sequence: after.version ?? 1,
    requestId: after.changedBy?.requestId ?? (change.change === 'insert' ? after.requestId : undefined) ?? '',
  };
  const entries: HistoryEntry[] = [];
  const add = (type: HistoryType, till: string | undefined, origin: Origin | undefined, details: Record<string, unknown>) =>
    entries.push({
      at: base.at,
      type,
      sequence: base.sequence,
      by: { till: after.changedBy?.till ?? till ?? '', origin: origin ?? 'api' },
      requestId: base.requestId,
      details,
    });
  const before = change.change === 'insert' ? undefined : change.before;
  if (!before) {
    if (after.lastUnmerge && after.lastUnmerge.to === change.customerId) {
      add('unmerged', after.profiles[0]?.createdBy, undefined, unmergeDetails(after.lastUnmerge));
    } else {
      add('created', after.profiles[0]?.createdBy, after.origin, { profiles: (after.profiles ?? []).map(profileRef) });
    }
    return keyed(entries);
  }
  if (after.activity === 'ERASED' || after.activity === 'ERASING' || after.activity === 'MERGED' || after.activity === 'MERGING') return [];
  const unmerge = after.lastUnmerge;
  if (unmerge && (before.activity === 'MERGED' || changedSummary(before.lastUnmerge, unmerge))) {
    add('unmerged', undefined, undefined, unmergeDetails(unmerge));
    return keyed(entries);
  }
  const merge = after.lastMerge;
  if ((after.profileCount ?? 0) > (before.profileCount ?? 0) && merge) {
    if (merge.victimId !== undefined) {
      add('merged_customer', undefined, undefined, { victimId: merge.victimId, profiles: merge.sourceAccounts.map(refOfSourceAccount) });
    } else {
      const till = merge.till;
      for (const sourceAccount of merge.sourceAccounts) {
        add('merged', till, merge.origin, { profile: refOfSourceAccount(sourceAccount), matchedBy: merge.matchedBy ?? [] });
      }
    }
    return keyed(entries);
  }
  // An update or an identifier change: the profiles on the customer item, and its own parts.
  const old = new Map((before.profiles ?? []).map((p) => [sourceAccountOf(p), p]));
  const changes: Change[] = [];
  let till: string | undefined;
  for (const profile of after.profiles ?? []) {
    const was = old.get(sourceAccountOf(profile));
    if (!was) continue;
    const identifiers = identifierChange(was, profile);
    if (identifiers) {
      till ??= profile.modifiedBy;
      add('identifiers_changed', profile.modifiedBy, undefined, identifiers);
    }
    const profileChanges = detailChanges(was, profile);
    if (profileChanges.length > 0) till ??= profile.modifiedBy;
    changes.push(...profileChanges);
  }
  changes.push(...leafChanges('/loyaltyType', before.loyaltyType, after.loyaltyType));
  changes.push(...leafChanges('/extendedFields', before.extendedFields ?? {}, after.extendedFields ?? {}));
  if (stableJson(before.enrollments ?? []) !== stableJson(after.enrollments ?? [])) {
    changes.push({ path: '/enrollments', old: before.enrollments ?? [], new: after.enrollments ?? [] });
  }
  if (changes.length > 0) {
    const modifiedBy = till ?? (after.profiles ?? []).map((p) => p.modifiedBy).find(Boolean);
    add('updated', modifiedBy, undefined, { changes });
  }
  return keyed(entries);
}

function keyed(entries: HistoryEntry[]): KeyedEntry[] {
  return entries.map((entry, i) => ({ discriminator: `C#${i}`, entry }));
}

function changedSummary(was: UnmergeSummary | undefined, is: UnmergeSummary): boolean {
  return stableJson(was ?? null) !== stableJson(is);
}

function unmergeDetails(summary: UnmergeSummary): Record<string, unknown> {
  return { profile: summary.profile, from: summary.from, to: summary.to, kept: summary.kept, moved: summary.moved };
}

function profileEntries(
  before: Profile,
  after: Profile,
  stamp: { at: string; sequence: number; till: string; requestId: string },
): HistoryEntry[] {
  const entries: HistoryEntry[] = [];
  const make = (type: HistoryType, details: Record<string, unknown>): HistoryEntry => ({
    at: stamp.at,
    type,
    sequence: stamp.sequence,
    by: { till: stamp.till, origin: 'api' },
    requestId: stamp.requestId,
    details,
  });
  const identifiers = identifierChange(before, after);
  if (identifiers) entries.push(make('identifiers_changed', identifiers));
  const changes = detailChanges(before, after);
  if (changes.length > 0) entries.push(make('updated', { changes }));
  return entries;
}

interface Change {
  path: string;
  old: unknown;
  new: unknown;
}

function identifiersOf(profile: Profile): Identifier[] {
  return [...(profile.identifiers ?? []), ...(profile.card?.cardNumber ? [{ type: 'card' as const, value: profile.card.cardNumber }] : [])];
}

/** The identifiers a profile gained and lost, or undefined when none. */
function identifierChange(before: Profile, after: Profile): Record<string, unknown> | undefined {
  const key = (i: Identifier) => `${i.type}#${i.value}`;
  const was = new Set(identifiersOf(before).map(key));
  const is = new Set(identifiersOf(after).map(key));
  const added = identifiersOf(after).filter((i) => !was.has(key(i)));
  const removed = identifiersOf(before).filter((i) => !is.has(key(i)));
  if (added.length === 0 && removed.length === 0) return undefined;
  const plain = (i: Identifier) => ({ type: i.type, value: i.value });
  return { profile: profileRef(after), added: added.map(plain), removed: removed.map(plain) };
}

/** The names, fields and channels of a profile that changed, path by path. */
function detailChanges(before: Profile, after: Profile): Change[] {
  const at = `/profiles/${escapePointer(sourceAccountOf(after))}`;
  return [
    ...leafChanges(`${at}/firstName`, before.firstName ?? null, after.firstName ?? null),
    ...leafChanges(`${at}/lastName`, before.lastName ?? null, after.lastName ?? null),
    ...leafChanges(`${at}/fields`, before.fields ?? {}, after.fields ?? {}),
    ...(stableJson(before.commChannels ?? []) !== stableJson(after.commChannels ?? [])
      ? [{ path: `${at}/commChannels`, old: before.commChannels ?? [], new: after.commChannels ?? [] }]
      : []),
  ];
}

/** Every leaf that differs between two values: objects key by key, anything else whole. */
function leafChanges(path: string, before: unknown, after: unknown): Change[] {
  if (isObject(before) && isObject(after)) {
    const names = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
    return names.flatMap((name) => leafChanges(`${path}/${escapePointer(name)}`, before[name] ?? null, after[name] ?? null));
  }
  return stableJson(before ?? null) === stableJson(after ?? null) ? [] : [{ path, old: before ?? null, new: after ?? null }];
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
