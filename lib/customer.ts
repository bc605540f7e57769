// The domain model: a customer's parts and a registration after validation and normalisation,
// independent of the request's JSON shape and of DynamoDB. Everything else builds on it.

import type { Warning } from './errors';
import type { CommChannelType, IdentifierType, LoyaltyType, Source } from './vocabulary';

export interface Identifier {
  type: IdentifierType;
  /** Normalised value: the same for every spelling of one mobile or email. */
  value: string;
}

export interface CommChannel {
  type: CommChannelType;
  value: string;
  primary: boolean;
  verified: boolean;
  subscribed: boolean;
  meta?: Record<string, unknown>;
  attributes?: Record<string, unknown>;
}

/** A loyalty card issued with a profile. `cardNumber` is empty until the series generates one. */
export interface Card {
  cardNumber: string;
  seriesId: number;
  seriesCode: string;
  statusLabel: string;
  issuedDate: string;
  /** The series drew the number (the request sent none), so a collision is drawn again. */
  generated: boolean;
  fields?: Record<string, string>;
  extendedFields?: Record<string, ExtendedFieldValue>;
}

export type ExtendedFieldValue = string | number | boolean;

export interface Profile {
  source: Source;
  /** Empty for single-account sources. */
  accountId: string;
  firstName?: string;
  lastName?: string;
  identifiers: Identifier[];
  fields: Record<string, string>;
  commChannels: CommChannel[];
  card?: Card;
  createDate: string;
  /** The till that registered this profile. */
  createdBy: string;
  /** When and by which till the profile (or the customer through it) was last changed. */
  modifiedDate?: string;
  modifiedBy?: string;
}

export interface Enrollment {
  programId: number;
  tierNumber: number;
  loyaltyPoints: number;
  tierExpiryDate?: string;
  pointsExpiryDate?: string;
}

/** What a customer is made of, as registered and as stored. */
interface CustomerParts {
  orgId: number;
  loyaltyType: LoyaltyType;
  profiles: Profile[];
  extendedFields: Record<string, ExtendedFieldValue>;
  enrollments: Enrollment[];
  createDate: string;
  associatedWith: string;
  endPointsEnabled: string[];
}

/** Where a registration came from: POST /v2/customers, POST /v2/customers/bulk, or an import. */
export type Origin = 'api' | 'bulk' | 'import';

/** Everything a new customer would be created with. */
export interface Registration extends CustomerParts {
  /** Unset: `api`. Stored on the items it writes, for the events derived from them. */
  origin?: Origin;
  /** Which customer-level parts the request set, for the warnings of a merge. */
  customerLevelParts: string[];
  warnings: Warning[];
}

/**
 * What a customer item's `activity` says: a live customer, one being erased in steps, a
 * tombstone, a customer merged into another (SPEC section 15: its id answers the survivor), or
 * one being merged into another in steps (it answers the survivor already, and takes nothing).
 */
export type Activity = 'ACTIVE' | 'ERASING' | 'ERASED' | 'MERGED' | 'MERGING';

/** A customer with every profile, as `GET /v2/customers/{id}` shows it. */
export interface Customer extends CustomerParts {
  id: number;
  activity: Activity;
}

/**
 * A customer as read for a change: its version (every write to the customer's item raises it,
 * and every change is conditioned on it) and how many of its profiles live on the customer item
 * (the first ones; the rest are merged profile items, one per source account).
 */
export interface VersionedCustomer extends Customer {
  /** 0 for an item never changed since it was created. */
  version: number;
  profilesOnItem: number;
  /** The idempotency records written in its own transactions, as the customer item lists them (lib/store/idempotencyRecords.ts). */
  recordEntries?: string[];
  /** A merged victim's survivor (activity MERGED, or MERGING while a stepped merge runs). */
  mergedInto?: number;
  /** The victim a stepped merge into this customer is taking in (set until its last step). */
  mergingFrom?: number;
  /** A stepped unmerge is still recording the customer's source accounts on the identifiers that stayed. */
  refreshingIdentifiers?: boolean;
  /** Source account -> the customer an explicit merge brought the profile from (SPEC section 15). */
  mergedFrom?: Record<string, number>;
  /** The customers explicitly merged into this one, whose tombstones an erase of this one erases too. */
  victims?: number[];
}

/** Whether the customer is in the middle of stepped work: a victim being merged, a survivor taking one in, identifiers to refresh. */
export function hasStepsLeft(customer: Pick<VersionedCustomer, 'activity' | 'mergingFrom' | 'refreshingIdentifiers'>): boolean {
  return (
    customer.activity === 'MERGING' ||
    (customer.activity === 'ACTIVE' && (customer.mergingFrom !== undefined || customer.refreshingIdentifiers === true))
  );
}

/** A profile named by its source and account, as the history and the unmerge answer name it. */
export interface ProfileRef {
  source: string;
  accountId: string | null;
}

/** What an unmerge recorded on the customer items it wrote (SPEC section 15). */
export interface UnmergeSummary {
  profile: ProfileRef;
  /** The customer the profile left, and the one it went to. */
  from: number;
  to: number;
  kept: Identifier[];
  moved: Identifier[];
}

/** An entry of a customer's history (SPEC section 15), as lib/history/entries.ts makes it and the store keeps it. */
export const HISTORY_TYPES = ['created', 'merged', 'updated', 'identifiers_changed', 'merged_customer', 'unmerged'] as const;
export type HistoryType = (typeof HISTORY_TYPES)[number];

export interface HistoryEntry {
  /** When the change was written (ISO 8601, milliseconds). */
  at: string;
  type: HistoryType;
  sequence: number;
  by: { till: string; origin: Origin };
  requestId: string;
  details: Record<string, unknown>;
}

/** An entry with what makes it one of several written for one change. */
export interface KeyedEntry {
  discriminator: string;
  entry: HistoryEntry;
}

/** The key of a profile's place: one profile per source and account per customer. */
export function sourceAccountOf(profile: Pick<Profile, 'source' | 'accountId'>): string {
  return profile.accountId ? `${profile.source}#${profile.accountId}` : profile.source;
}

/** The key of an identifier's value, unique within an org. */
export function identifierKeyOf(identifier: Identifier): string {
  return `${identifier.type}#${identifier.value}`;
}

/** The identifier types of some profiles, a card included, sorted: what an event may name of them. */
export function identifierTypesOf(profiles: Profile[]): string[] {
  const types = new Set<string>();
  for (const profile of profiles) {
    for (const identifier of profile.identifiers ?? []) types.add(identifier.type);
    if (profile.card?.cardNumber) types.add('card');
  }
  return [...types].sort();
}

/** Every identifier of a registration once, cards included. */
export function uniqueIdentifiers(profiles: Profile[]): Identifier[] {
  const seen = new Map<string, Identifier>();
  for (const profile of profiles) {
    for (const identifier of profile.identifiers) seen.set(identifierKeyOf(identifier), identifier);
    if (profile.card?.cardNumber) {
      const card: Identifier = { type: 'card', value: profile.card.cardNumber };
      seen.set(identifierKeyOf(card), card);
    }
  }
  return [...seen.values()];
}
