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
export function planUnmerge(write: UnmergeWrite, record?: RecordToClaim, token: string = randomUUID()): PlannedTransaction {
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
  for (const identifier of uniqueIdentifiers(remaining)) {
    if (movedKeys.has(identifierKeyOf(identifier))) continue;
    items.push(moveIdentifier(orgId, identifier, customer.id, customer.id, staying));
    roles.push({ kind: 'identifier', key: identifierKeyOf(identifier) });
  }
  return withRecord({ input: { TransactItems: items, ClientRequestToken: token }, roles }, record);
}
