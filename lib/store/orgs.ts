// Org configuration and tills in the table. Reads are cached per Lambda instance for a short
// time (CONFIG_CACHE_SECONDS), so a warm request costs no configuration read.

import { BatchWriteCommand, GetCommand, type BatchWriteCommandOutput, type GetCommandOutput } from '@aws-sdk/lib-dynamodb';
import { configCacheMillis, tableName } from '../config';
import { problemsOfOrgFile, type OrgConfig, type OrgFile } from '../org';
import { hashPassword, md5Hex } from '../passwords';
import { MULTI_ACCOUNT_SOURCES, SOURCES } from '../vocabulary';
import { problemsOfOrgShape } from '../schemas/validate';
import { send } from './client';
import { Entity, keys } from './keys';

export interface StoredTill {
  username: string;
  orgId: number;
  /** `scrypt$<salt hex>$<hash hex>` of the md5 hex of the password. */
  passwordHash: string;
}

const cache = new Map<string, { expires: number; value: unknown }>();
/** Bounded: unknown till names sent by strangers must not grow a warm instance's memory. */
const MAX_CACHED = 1000;

async function cachedGet<T>(key: { pk: string; sk: string }, read: (item: Record<string, unknown>) => T): Promise<T | undefined> {
  const cacheKey = `${tableName()}|${key.pk}|${key.sk}`;
  const hit = cache.get(cacheKey);
  if (hit && hit.expires > Date.now()) return hit.value as T | undefined;
  const { Item: item } = await send<GetCommandOutput>(new GetCommand({ TableName: tableName(), Key: key }));
  if (!item) return undefined;
  const value = read(item);
  if (cache.size >= MAX_CACHED) cache.clear();
  cache.set(cacheKey, { expires: Date.now() + configCacheMillis(), value });
  return value;
}

export function getOrgConfig(orgId: number): Promise<OrgConfig | undefined> {
  return cachedGet(keys.org(orgId), (item) => item.config as OrgConfig);
}

export function getTill(username: string): Promise<StoredTill | undefined> {
  return cachedGet(keys.till(username), (item) => ({
    username: item.username as string,
    orgId: item.orgId as number,
    passwordHash: item.passwordHash as string,
  }));
}

/** Forgets cached configuration (after loading new configuration in the same process). */
function clearConfigCache(): void {
  cache.clear();
}

/** Writes an org's configuration and its tills (passwords hashed) to the table. */
export async function saveOrg(given: OrgFile): Promise<void> {
  const shape = problemsOfOrgShape(given);
  if (shape.length > 0) throw new Error(`invalid org configuration: ${shape.join('; ')}`);
  const file = withoutAnnotations(given) as OrgFile;
  const problems = problemsOfOrgFile(file, SOURCES, MULTI_ACCOUNT_SOURCES);
  if (problems.length > 0) throw new Error(`invalid org configuration: ${problems.join('; ')}`);
  const { tills, ...rest } = file;
  const allowed = (right: 'mayErase' | 'mayExport' | 'mayMerge') => tills.filter((t) => t[right]).map((t) => t.username);
  const rights = { erasingTills: allowed('mayErase'), exportingTills: allowed('mayExport'), mergingTills: allowed('mayMerge') };
  const config: OrgConfig = {
    ...rest,
    tills: tills.map((t) => t.username),
    ...Object.fromEntries(Object.entries(rights).filter(([, usernames]) => usernames.length > 0)),
  };
  const items: Record<string, unknown>[] = [{ ...keys.org(file.orgId), entity: Entity.org, config }];
  for (const till of tills) {
    const md5 = till.passwordMd5 ?? (till.password !== undefined ? md5Hex(till.password) : undefined);
    if (!md5) throw new Error(`till ${till.username} of org ${file.orgId} has neither password nor passwordMd5`);
    items.push({
      ...keys.till(till.username),
      entity: Entity.till,
      username: till.username,
      orgId: file.orgId,
      passwordHash: await hashPassword(md5.toLowerCase()),
    });
  }
  for (let i = 0; i < items.length; i += 25) {
    const batch = items.slice(i, i + 25).map((Item) => ({ PutRequest: { Item } }));
    let unprocessed: Record<string, unknown> | undefined = { [tableName()]: batch };
    while (unprocessed && Object.keys(unprocessed).length > 0) {
      const result: BatchWriteCommandOutput = await send<BatchWriteCommandOutput>(
        new BatchWriteCommand({ RequestItems: unprocessed as never }),
      );
      unprocessed = result.UnprocessedItems;
    }
  }
  clearConfigCache();
}

/** The file without its `$schema` and `$comment` keys, which are for editors and people. */
function withoutAnnotations(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutAnnotations);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value)
      .filter(([key]) => key !== '$schema' && key !== '$comment')
      .map(([key, v]) => [key, withoutAnnotations(v)]),
  );
}
