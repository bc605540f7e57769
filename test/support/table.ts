import { randomUUID } from 'node:crypto';
import { DeleteTableCommand, ScanCommand } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { ensureTable, localClient } from '../../scripts/table';
import { DEMO_ORGS_FILE, loadOrgFiles } from '../../scripts/loadOrgs';
import { Entity } from '../../lib/store/keys';

/** Runs `work` against another table of the run's DynamoDB Local, loaded with the demo orgs. */
export async function inTable<T>(name: string, work: () => Promise<T>): Promise<T> {
  const previous = process.env.TABLE_NAME;
  process.env.TABLE_NAME = name;
  try {
    await ensureTable(client(), name);
    await loadOrgFiles([DEMO_ORGS_FILE]);
    return await work();
  } finally {
    process.env.TABLE_NAME = previous;
  }
}

/**
 * Gives the calling test file its own table in the run's DynamoDB Local, loaded with the
 * demo orgs, and drops it afterwards. With `stream`, the table has its stream (new and old
 * images, as serverless.yml declares it): test/support/stream.ts reads it.
 */
export function useDemoTable(options: { stream?: boolean } = {}): { name: () => string } {
  let name = '';
  beforeAll(async () => {
    name = `test-${randomUUID()}`;
    process.env.TABLE_NAME = name;
    await ensureTable(client(), name, options.stream ? { stream: true } : {});
    await loadOrgFiles([DEMO_ORGS_FILE]);
  });
  afterAll(async () => {
    await client().send(new DeleteTableCommand({ TableName: name }));
  });
  return { name: () => name };
}

function client() {
  const endpoint = process.env.DYNAMODB_ENDPOINT;
  if (!endpoint) throw new Error('DYNAMODB_ENDPOINT is not set: run through jest (globalSetup starts DynamoDB Local)');
  return localClient(endpoint);
}

/** Every item of the current table: tests use it to assert what was and was not written. */
export async function allItems(): Promise<Record<string, unknown>[]> {
  const items: Record<string, unknown>[] = [];
  let ExclusiveStartKey: Record<string, never> | undefined;
  do {
    const page = await client().send(new ScanCommand({ TableName: process.env.TABLE_NAME!, ExclusiveStartKey }));
    items.push(...(page.Items ?? []).map((i) => unmarshall(i)));
    ExclusiveStartKey = page.LastEvaluatedKey as Record<string, never> | undefined;
  } while (ExclusiveStartKey);
  return items;
}

/** What registrations wrote: everything but configuration (orgs, tills) and rate-limit counters. */
export async function registrationItems(): Promise<Record<string, unknown>[]> {
  return (await allItems()).filter((i) => !([Entity.org, Entity.till, Entity.rateWindow] as string[]).includes(String(i.entity)));
}

/** The customer, merged profile and identifier items, in a stable order: what a rejection must leave as it was. */
export async function customerItems(): Promise<Record<string, unknown>[]> {
  return (await registrationItems())
    .filter((item) => ([Entity.customer, Entity.mergedProfile, Entity.identifier] as string[]).includes(String(item.entity)))
    .sort((a, b) => `${a.pk}|${a.sk}`.localeCompare(`${b.pk}|${b.sk}`));
}
