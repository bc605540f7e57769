// The transactions of an explicit merge and of an unmerge (SPEC section 15), built without
// sending them, like changePlans.ts.
//
// Both are conditioned on the version read of every customer item they write, so a
// registration, a change, an erase or another merge that landed after the read makes them fail
// and be planned again on a fresh read; every identifier item they move is moved only while it
// still names the customer it leaves. A victim's tombstone keeps its customer-level parts
// (extended fields, enrollments with their points, loyalty type): they come back when its
// profile is split out again, and an erase of its survivor erases them (`victims`).

import { randomUUID } from 'node:crypto';
import { tableName } from '../config';
import {
  identifierKeyOf,
  identifierTypesOf,
  sourceAccountOf,
  uniqueIdentifiers,
  type Identifier,
  type Profile,
  type UnmergeSummary,
  type VersionedCustomer,
} from '../customer';
import { liveEntries, recordEntry } from './idempotencyRecords';
import { Entity, keys } from './keys';
import {
  changedBy,
  changeTime,
  MAX_TRANSACTION_ITEMS,
  withRecord,
  type ItemRole,
  type MergeSummary,
  type PlannedTransaction,
  type RecordToClaim,
  type TransactItem,
} from './plans';

const ALL_OLD = 'ALL_OLD' as const;

function versionCondition(version: number, activity = 'ACTIVE'): { expression: string; values: Record<string, unknown> } {
  return version === 0
    ? { expression: 'activity = :activity AND attribute_not_exists(version)', values: { ':activity': activity } }
    : { expression: 'activity = :activity AND version = :version', values: { ':activity': activity, ':version': version } };
}

/** The records a customer item lists after a write: its live ones, others moved to it, the write's own. */
function recordList(entries: string[][], record?: RecordToClaim): Set<string> | undefined {
  const all = new Set([...entries.flatMap((e) => liveEntries(e)), ...(record ? [recordEntry(record.key)] : [])]);
  return all.size > 0 ? all : undefined;
}

function customerUpdate(
  customer: VersionedCustomer,
  set: Record<string, unknown>,
  remove: string[],
  condition: { expression: string; values: Record<string, unknown> },
  token: string,
): TransactItem {
  const by = changedBy();
  const values: Record<string, unknown> = {
    ...condition.values,
    ...by.values,
    ':next': customer.version + 1,
    ':at': changeTime(),
    ':token': token,
  };
  const assignments = ['version = :next', 'changedAt = :at', 'writtenBy = :token'];
  for (const [name, value] of Object.entries(set)) {
    if (value === undefined) {
      remove.push(name);
      continue;
    }
    assignments.push(`${name} = :set_${name}`);
    values[`:set_${name}`] = value;
  }
  return {
    Update: {
      TableName: tableName(),
      Key: keys.customer(customer.orgId, customer.id),
      UpdateExpression: `SET ${assignments.join(', ')}${by.expression}${remove.length > 0 ? ` REMOVE ${remove.join(', ')}` : ''}`,
      ConditionExpression: condition.expression,
      ExpressionAttributeValues: values,
      ReturnValuesOnConditionCheckFailure: ALL_OLD,
    },
  };
}

function moveIdentifier(orgId: number, identifier: Identifier, from: number, to: number, sourceAccounts: string[]): TransactItem {
  return {
    Update: {
      TableName: tableName(),
      Key: keys.identifier(orgId, identifier.type, identifier.value),
      UpdateExpression: 'SET customerId = :to, customerSourceAccounts = :sourceAccounts',
      ConditionExpression: 'customerId = :from',
      ExpressionAttributeValues: { ':to': to, ':from': from, ':sourceAccounts': sourceAccounts },
      ReturnValuesOnConditionCheckFailure: ALL_OLD,
    },
  };
}

function profileItem(orgId: number, customerId: number, profile: Profile, token: string, mergedFrom?: number): TransactItem {
  return {
    Put: {
      TableName: tableName(),
      Item: {
        ...keys.mergedProfile(orgId, customerId, sourceAccountOf(profile)),
        entity: Entity.mergedProfile,
        profile,
        writtenBy: token,
        ...(mergedFrom === undefined ? {} : { mergedFrom }),
      },
      ConditionExpression: 'attribute_not_exists(pk)',
      ReturnValuesOnConditionCheckFailure: ALL_OLD,
    },
  };
}

function deleteProfileItem(orgId: number, customerId: number, sourceAccount: string): TransactItem {
  return {
    Delete: {
      TableName: tableName(),
      Key: keys.mergedProfile(orgId, customerId, sourceAccount),
      ConditionExpression: 'attribute_exists(pk)',
    },
  };
}

/** The items a merge of these two customers writes, to tell whether it fits one transaction. */
export function mergeItemCount(survivor: VersionedCustomer, victim: VersionedCustomer): number {
  return 2 + (victim.profiles.length - victim.profilesOnItem) + victim.profiles.length + uniqueIdentifiers(victim.profiles).length + 1;
}

/**
 * One transaction: the survivor takes the victim's profiles as merged profile items (each
 * remembering where it came from) and its identifiers; the victim becomes a tombstone naming
 * the survivor, without profiles.
 */
export function planExplicitMerge(
  survivor: VersionedCustomer,
  victim: VersionedCustomer,
  record?: RecordToClaim,
  token: string = randomUUID(),
): PlannedTransaction {
  const { orgId } = survivor;
  const moved = victim.profiles;
  const sourceAccounts = [...survivor.profiles, ...moved].map(sourceAccountOf);
  const summary: MergeSummary = {
    sourceAccounts: moved.map(sourceAccountOf),
    identifierTypes: identifierTypesOf(moved),
    victimId: victim.id,
  };
  const victims = [...new Set([...(survivor.victims ?? []), ...(victim.victims ?? []), victim.id])];
  const listed = recordList([survivor.recordEntries ?? [], victim.recordEntries ?? []], record);
  const items: TransactItem[] = [
    customerUpdate(
      survivor,
      { profileCount: survivor.profiles.length + moved.length, lastMerge: summary, lastUnmerge: undefined, victims, recordKeys: listed },
      [],
      versionCondition(survivor.version),
      token,
    ),
    customerUpdate(
      victim,
      { activity: 'MERGED', mergedInto: survivor.id, mergedAt: changeTime(), profiles: [], profileCount: 0 },
      ['recordKeys', 'victims', 'lastMerge', 'lastUnmerge'],
      versionCondition(victim.version),
      token,
    ),
  ];
  const roles: ItemRole[] = [
    { kind: 'customerVersion', customerId: survivor.id },
    { kind: 'customerVersion', customerId: victim.id },
  ];
  for (const profile of moved.slice(victim.profilesOnItem)) {
    items.push(deleteProfileItem(orgId, victim.id, sourceAccountOf(profile)));
    roles.push({ kind: 'mergedProfileChange', customerId: victim.id });
  }
  for (const profile of moved) {
    const sourceAccount = sourceAccountOf(profile);
    items.push(profileItem(orgId, survivor.id, profile, token, victim.mergedFrom?.[sourceAccount] ?? victim.id));
    roles.push({ kind: 'profile', customerId: survivor.id, sourceAccount });
  }
  for (const identifier of uniqueIdentifiers(moved)) {
    items.push(moveIdentifier(orgId, identifier, victim.id, survivor.id, sourceAccounts));
    roles.push({ kind: 'identifier', key: identifierKeyOf(identifier) });
  }
  return withRecord({ input: { TransactItems: items, ClientRequestToken: token }, roles }, record);
}

/** Where an unmerged profile goes: back to the victim it came from, or to a new customer. */
export type UnmergeTarget = { kind: 'victim'; victim: VersionedCustomer } | { kind: 'new'; customerId: number };

export interface UnmergeWrite {
  customer: VersionedCustomer;
  /** The index of the profile split out, in `customer.profiles`. */
  index: number;
  target: UnmergeTarget;
  kept: Identifier[];
  moved: Identifier[];
  summary: UnmergeSummary;
}

export function unmergeItemCount(customer: VersionedCustomer, target: UnmergeTarget): number {
  const extra = target.kind === 'victim' && target.victim.activity === 'ACTIVE' ? 1 : 0;
  return 3 + extra + uniqueIdentifiers(customer.profiles).length + 1;
}

/**
 * One transaction: the customer loses the profile (from its item or its merged profile item),
 * the target gets it, the identifiers only it lists move to the target, and every identifier
 * that stays records the source accounts the customer keeps (so that none names one it left).
 */
export function planUnmerge(
  write: UnmergeWrite,
  record?: RecordToClaim,
  token: string = randomUUID(),
  options: { refreshLater?: boolean } = {},
): PlannedTransaction {
  const { customer, index, target, moved } = write;
  const { orgId } = customer;
  const profile = customer.profiles[index];
  const sourceAccount = sourceAccountOf(profile);
  const remaining = customer.profiles.filter((_p, i) => i !== index);
  const onItem = index < customer.profilesOnItem;
  const targetId = target.kind === 'new' ? target.customerId : target.victim.id;
  const victims = (customer.victims ?? []).filter((id) => id !== targetId);
  const items: TransactItem[] = [
    customerUpdate(
      customer,
      {
        ...(onItem ? { profiles: customer.profiles.slice(0, customer.profilesOnItem).filter((_p, i) => i !== index) } : {}),
        profileCount: remaining.length,
        lastUnmerge: write.summary,
        victims: victims.length > 0 ? victims : undefined,
        recordKeys: recordList([customer.recordEntries ?? []], record),
        // Too many identifiers stay for one transaction: their source accounts are refreshed in the steps after it.
        ...(options.refreshLater
          ? { refreshingIdentifiers: true }
          : customer.refreshingIdentifiers
            ? { refreshingIdentifiers: undefined }
            : {}),
      },
      [],
      versionCondition(customer.version),
      token,
    ),
  ];
  const roles: ItemRole[] = [{ kind: 'customerVersion', customerId: customer.id }];
  if (!onItem) {
    items.push(deleteProfileItem(orgId, customer.id, sourceAccount));
    roles.push({ kind: 'mergedProfileChange', customerId: customer.id });
  }
  let targetSourceAccounts = [sourceAccount];
  if (target.kind === 'new') {
    items.push({
      Put: {
        TableName: tableName(),
        Item: {
          ...keys.customer(orgId, target.customerId),
          entity: Entity.customer,
          orgId,
          id: target.customerId,
          loyaltyType: customer.loyaltyType,
          profiles: [profile],
          extendedFields: {},
          enrollments: [],
          createDate: profile.createDate,
          associatedWith: customer.associatedWith,
          endPointsEnabled: customer.endPointsEnabled,
          activity: 'ACTIVE',
          version: 1,
          profileCount: 1,
          changedAt: changeTime(),
          lastUnmerge: write.summary,
          ...changedBy().attribute,
          // The unmerge's record names this customer and its values: its erase deletes it too.
          ...(record ? { recordKeys: new Set([recordEntry(record.key)]) } : {}),
        },
        ConditionExpression: 'attribute_not_exists(pk)',
      },
    });
    roles.push({ kind: 'customer', customerId: target.customerId });
  } else if (target.victim.activity === 'MERGED') {
    // The victim comes back under its own id, with its own customer-level parts.
    items.push(
      customerUpdate(
        target.victim,
        { activity: 'ACTIVE', profiles: [profile], profileCount: 1, lastUnmerge: write.summary, recordKeys: recordList([], record) },
        ['mergedInto', 'mergedAt'],
        versionCondition(target.victim.version, 'MERGED'),
        token,
      ),
    );
    roles.push({ kind: 'customerVersion', customerId: target.victim.id });
  } else {
    // The victim is back already (another of its profiles was split out first): this one joins it.
    targetSourceAccounts = [...target.victim.profiles.map(sourceAccountOf), sourceAccount];
    items.push(
      customerUpdate(
        target.victim,
        {
          profileCount: target.victim.profiles.length + 1,
          lastUnmerge: write.summary,
          recordKeys: recordList([target.victim.recordEntries ?? []], record),
        },
        [],
        versionCondition(target.victim.version),
        token,
      ),
    );
    roles.push({ kind: 'customerVersion', customerId: target.victim.id });
    items.push(profileItem(orgId, target.victim.id, profile, token));
    roles.push({ kind: 'profile', customerId: target.victim.id, sourceAccount });
  }
  const movedKeys = new Set(moved.map(identifierKeyOf));
  for (const identifier of moved) {
    items.push(moveIdentifier(orgId, identifier, customer.id, targetId, targetSourceAccounts));
    roles.push({ kind: 'identifier', key: identifierKeyOf(identifier) });
  }
  const staying = remaining.map(sourceAccountOf);
  for (const identifier of options.refreshLater ? [] : uniqueIdentifiers(remaining)) {
    if (movedKeys.has(identifierKeyOf(identifier))) continue;
    items.push(moveIdentifier(orgId, identifier, customer.id, customer.id, staying));
    roles.push({ kind: 'identifier', key: identifierKeyOf(identifier) });
  }
  return withRecord({ input: { TransactItems: items, ClientRequestToken: token }, roles }, record);
}

// A merge too large for one transaction (SPEC section 15: "in steps like an erase, the victim
// marked first"). The first transaction marks the victim MERGING, naming its survivor, and puts
// its profiles into the survivor, raising the survivor's profile count by them: from then on a
// read of the victim answers the survivor, nothing registers into the victim or changes it, no
// registration takes one of those source accounts in the survivor, and maxProfilesPerCustomer
// holds. The survivor is marked as taking the victim in (`mergingFrom`), which refuses its
// changes, erases, merges and unmerges until the last step. The steps after it move the
// victim's identifiers (each only while it still names the victim), then delete the victim's
// profile items, and the last one makes the victim a tombstone and clears the mark. Every step
// can be run again: the merge sent again finds the marks and carries on.

/** The items of a stepped merge's first transaction: both customer items and a profile item per profile of the victim. */
export function markMergingItemCount(victim: VersionedCustomer): number {
  return 2 + victim.profiles.length;
}

export function planMarkMerging(survivor: VersionedCustomer, victim: VersionedCustomer, token: string = randomUUID()): PlannedTransaction {
  const { orgId } = survivor;
  const moved = victim.profiles;
  const summary: MergeSummary = {
    sourceAccounts: moved.map(sourceAccountOf),
    identifierTypes: identifierTypesOf(moved),
    victimId: victim.id,
  };
  const victims = [...new Set([...(survivor.victims ?? []), ...(victim.victims ?? []), victim.id])];
  const items: TransactItem[] = [
    customerUpdate(
      survivor,
      {
        profileCount: survivor.profiles.length + moved.length,
        lastMerge: summary,
        lastUnmerge: undefined,
        victims,
        mergingFrom: victim.id,
      },
      [],
      versionCondition(survivor.version),
      token,
    ),
    customerUpdate(victim, { activity: 'MERGING', mergedInto: survivor.id }, [], versionCondition(victim.version), token),
  ];
  const roles: ItemRole[] = [
    { kind: 'customerVersion', customerId: survivor.id },
    { kind: 'customerVersion', customerId: victim.id },
  ];
  for (const profile of moved) {
    const sourceAccount = sourceAccountOf(profile);
    items.push(profileItem(orgId, survivor.id, profile, token, victim.mergedFrom?.[sourceAccount] ?? victim.id));
    roles.push({ kind: 'profile', customerId: survivor.id, sourceAccount });
  }
  return { input: { TransactItems: items, ClientRequestToken: token }, roles };
}

/** What is left of a stepped merge: the victim's identifiers to move and its profile items to delete (by source account). */
export interface MergeRemainder {
  identifiers: Identifier[];
  profileItems: string[];
}

/** All of it, from the victim as read (while its identifiers move, its profiles list them all). */
export function mergeRemainder(victim: VersionedCustomer): MergeRemainder {
  return {
    identifiers: uniqueIdentifiers(victim.profiles),
    profileItems: victim.profiles.slice(victim.profilesOnItem).map(sourceAccountOf),
  };
}

/**
 * Splits the remainder into transactions of at most `size` items, identifiers first (so that an
 * interrupted merge still finds, on the victim's profile items, every identifier not yet
 * moved); the last one also holds both customer items and the record.
 */
export function mergeSteps(
  remainder: MergeRemainder,
  size = MAX_TRANSACTION_ITEMS,
  recorded = false,
): { steps: MergeRemainder[]; last: MergeRemainder } {
  const all = [
    ...remainder.identifiers.map((identifier) => ({ identifier })),
    ...remainder.profileItems.map((profileItem) => ({ profileItem })),
  ];
  const toRemainder = (chunk: typeof all): MergeRemainder => ({
    identifiers: chunk.flatMap((c) => ('identifier' in c ? [c.identifier] : [])),
    profileItems: chunk.flatMap((c) => ('profileItem' in c ? [c.profileItem] : [])),
  });
  const lastSize = size - 2 - (recorded ? 1 : 0);
  // A middle step also checks that the victim is still marked for this survivor.
  const stepSize = size - 1;
  const steps: MergeRemainder[] = [];
  let rest = all;
  while (rest.length > lastSize) {
    steps.push(toRemainder(rest.slice(0, stepSize)));
    rest = rest.slice(stepSize);
  }
  return { steps, last: toRemainder(rest) };
}

function remainderItems(survivor: VersionedCustomer, victim: VersionedCustomer, part: MergeRemainder, roles: ItemRole[]): TransactItem[] {
  const { orgId } = survivor;
  // The survivor as read holds the victim's profiles already (the first step put them there).
  const sourceAccounts = [...new Set(survivor.profiles.map(sourceAccountOf))];
  const items: TransactItem[] = [];
  for (const identifier of part.identifiers) {
    items.push(moveIdentifier(orgId, identifier, victim.id, survivor.id, sourceAccounts));
    // One that no longer names the victim moved in an earlier send of this step: skipped next time.
    roles.push({ kind: 'release', key: identifierKeyOf(identifier) });
  }
  for (const sourceAccount of part.profileItems) {
    // Unconditional: a resumed merge deletes again what an earlier send deleted.
    items.push({ Delete: { TableName: tableName(), Key: keys.mergedProfile(orgId, victim.id, sourceAccount) } });
    roles.push({ kind: 'mergedProfileChange', customerId: victim.id });
  }
  return items;
}

const MERGING_CONDITION = 'activity = :merging AND mergedInto = :survivor';

/** A middle step of a stepped merge, conditioned on the victim still being merged into this survivor. */
export function planMergeStep(
  survivor: VersionedCustomer,
  victim: VersionedCustomer,
  part: MergeRemainder,
  token: string = randomUUID(),
): PlannedTransaction {
  const items: TransactItem[] = [
    {
      ConditionCheck: {
        TableName: tableName(),
        Key: keys.customer(victim.orgId, victim.id),
        ConditionExpression: MERGING_CONDITION,
        ExpressionAttributeValues: { ':merging': 'MERGING', ':survivor': survivor.id },
        ReturnValuesOnConditionCheckFailure: ALL_OLD,
      },
    },
  ];
  const roles: ItemRole[] = [{ kind: 'customerVersion', customerId: victim.id }];
  items.push(...remainderItems(survivor, victim, part, roles));
  return { input: { TransactItems: items, ClientRequestToken: token }, roles };
}

/**
 * The last step of a stepped merge: the victim becomes the tombstone naming its survivor, the
 * survivor's mark is cleared and it lists the victim's records and the merge's own. The
 * survivor is conditioned on its mark, not on a version: registrations into it go on during
 * the steps, so its version and records are raised, never set from the read.
 */
export function planFinishMerge(
  survivor: VersionedCustomer,
  victim: VersionedCustomer,
  part: MergeRemainder,
  record?: RecordToClaim,
  token: string = randomUUID(),
): PlannedTransaction {
  const by = changedBy();
  const records = new Set([...liveEntries(victim.recordEntries ?? []), ...(record ? [recordEntry(record.key)] : [])]);
  const items: TransactItem[] = [
    {
      Update: {
        TableName: tableName(),
        Key: keys.customer(survivor.orgId, survivor.id),
        UpdateExpression: `SET version = if_not_exists(version, :zero) + :one, changedAt = :at, writtenBy = :token${by.expression} REMOVE mergingFrom${
          records.size > 0 ? ' ADD recordKeys :records' : ''
        }`,
        ConditionExpression: 'mergingFrom = :victim',
        ExpressionAttributeValues: {
          ':victim': victim.id,
          ':zero': 0,
          ':one': 1,
          ':at': changeTime(),
          ':token': token,
          ...by.values,
          ...(records.size > 0 ? { ':records': records } : {}),
        },
        ReturnValuesOnConditionCheckFailure: ALL_OLD,
      },
    },
    customerUpdate(
      victim,
      { activity: 'MERGED', mergedAt: changeTime(), profiles: [], profileCount: 0 },
      ['recordKeys', 'victims', 'lastMerge', 'lastUnmerge'],
      { expression: MERGING_CONDITION, values: { ':merging': 'MERGING', ':survivor': survivor.id } },
      token,
    ),
  ];
  const roles: ItemRole[] = [
    { kind: 'customerVersion', customerId: survivor.id },
    { kind: 'customerVersion', customerId: victim.id },
  ];
  items.push(...remainderItems(survivor, victim, part, roles));
  return withRecord({ input: { TransactItems: items, ClientRequestToken: token }, roles }, record);
}

// An unmerge whose staying identifiers do not fit its transaction: the split is one transaction
// (the profile, its own identifiers and the record), which marks the customer
// `refreshingIdentifiers`; the steps after it record the customer's source accounts on each
// identifier that stays, each step conditioned on the customer's version read (a registration
// appending a source account meanwhile makes the step read again, so none is overwritten), and
// the last clears the mark. Until then a registration through a value that stayed, in the
// source account that left, is refused as if the customer still had it (8006): never a wrong
// merge. An unmerge of the customer sent again carries on first.

/** Splits the identifiers to refresh into transactions of at most `size` items (each also checks or writes the customer item). */
export function refreshSteps(identifiers: Identifier[], size = MAX_TRANSACTION_ITEMS): Identifier[][] {
  const chunks: Identifier[][] = [];
  for (let i = 0; i < identifiers.length; i += size - 1) chunks.push(identifiers.slice(i, i + size - 1));
  return chunks.length > 0 ? chunks : [[]];
}

/**
 * One step of a refresh: each identifier (still naming the customer) records the customer's
 * source accounts as read; `last` also clears the mark on the customer item, else only checks its version.
 */
export function planIdentifierRefresh(
  customer: VersionedCustomer,
  identifiers: Identifier[],
  last: boolean,
  token: string = randomUUID(),
): PlannedTransaction {
  const condition = versionCondition(customer.version);
  const items: TransactItem[] = [
    last
      ? customerUpdate(customer, { refreshingIdentifiers: undefined }, [], condition, token)
      : {
          ConditionCheck: {
            TableName: tableName(),
            Key: keys.customer(customer.orgId, customer.id),
            ConditionExpression: condition.expression,
            ExpressionAttributeValues: condition.values,
            ReturnValuesOnConditionCheckFailure: ALL_OLD,
          },
        },
  ];
  const roles: ItemRole[] = [{ kind: 'customerVersion', customerId: customer.id }];
  const sourceAccounts = [...new Set(customer.profiles.map(sourceAccountOf))];
  for (const identifier of identifiers) {
    items.push(moveIdentifier(customer.orgId, identifier, customer.id, customer.id, sourceAccounts));
    roles.push({ kind: 'release', key: identifierKeyOf(identifier) });
  }
  return { input: { TransactItems: items, ClientRequestToken: token }, roles };
}
