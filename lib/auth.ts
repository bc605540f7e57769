import { createHash } from 'node:crypto';
import { configCacheMillis } from './config';
import { ApiError, Code } from './errors';
import type { OrgConfig } from './org';
import { UNMATCHABLE_HASH, verifyPassword } from './passwords';
import { getOrgConfig, getTill } from './store/orgs';

/** The authenticated caller: a till and the org it belongs to. */
export interface Caller {
  till: string;
  org: OrgConfig;
}

/** Verified headers, so that scrypt runs once per till and instance, not per request. */
const verified = new Map<string, { expires: number; till: string; orgId: number }>();
const MAX_CACHED = 1000;
const MAX_USERNAME_LENGTH = 128;

/** Reads `Authorization: Basic base64(<till>:<md5 hex of password>)` and returns the caller. */
export async function authenticate(header: string | undefined): Promise<Caller> {
  const credentials = parseBasic(header);
  if (!credentials) throw unauthorized();
  const cacheKey = createHash('sha256').update(header!).digest('hex');
  const hit = verified.get(cacheKey);
  if (hit && hit.expires > Date.now()) {
    const org = await getOrgConfig(hit.orgId);
    if (!org || !org.tills.includes(hit.till)) throw unauthorized();
    return { till: hit.till, org };
  }
  const till = await getTill(credentials.username);
  // scrypt runs on the thread pool; the org's configuration is read meanwhile.
  const [ok, org] = await Promise.all([
    verifyPassword(credentials.md5.toLowerCase(), till?.passwordHash ?? UNMATCHABLE_HASH),
    till ? getOrgConfig(till.orgId) : undefined,
  ]);
  // A till taken out of the org's file stays in the table but is no till of the org any more.
  if (!till || !ok || !org || !org.tills.includes(till.username)) throw unauthorized();
  if (verified.size >= MAX_CACHED) verified.clear();
  verified.set(cacheKey, { expires: Date.now() + configCacheMillis(), till: till.username, orgId: till.orgId });
  return { till: till.username, org };
}

function parseBasic(header: string | undefined): { username: string; md5: string } | undefined {
  const match = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header ?? '');
  if (!match) return undefined;
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  // Till codes are short; a longer name is no till (and would not fit in a key).
  if (colon <= 0 || colon > MAX_USERNAME_LENGTH) return undefined;
  return { username: decoded.slice(0, colon), md5: decoded.slice(colon + 1) };
}

function unauthorized(): ApiError {
  return ApiError.of(Code.unauthorized, 'missing or wrong credentials').withHeaders({ 'WWW-Authenticate': 'Basic realm="customers"' });
}
