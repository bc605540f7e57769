import { createHash, randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';

// Till credentials: clients send the md5 hex of the password (Capillary's scheme); the
// service keeps only a salted scrypt hash of that md5 hex.

const scryptAsync = promisify(scrypt) as (password: string, salt: Buffer, keylen: number) => Promise<Buffer>;
const KEY_LENGTH = 32;

export function md5Hex(text: string): string {
  return createHash('md5').update(text, 'utf8').digest('hex');
}

export async function hashPassword(md5: string): Promise<string> {
  const salt = randomBytes(16);
  const hash = await scryptAsync(md5, salt, KEY_LENGTH);
  return `scrypt$${salt.toString('hex')}$${hash.toString('hex')}`;
}

export async function verifyPassword(md5: string, stored: string): Promise<boolean> {
  const [scheme, saltHex, hashHex] = stored.split('$');
  // A malformed stored hash must never verify (an empty key would compare equal).
  if (scheme !== 'scrypt' || !/^[0-9a-f]{32,}$/.test(saltHex ?? '') || !new RegExp(`^[0-9a-f]{${KEY_LENGTH * 2}}$`).test(hashHex ?? '')) {
    return false;
  }
  const expected = Buffer.from(hashHex, 'hex');
  const actual = await scryptAsync(md5, Buffer.from(saltHex, 'hex'), expected.length);
  return timingSafeEqual(actual, expected);
}

/** A hash no password matches, verified for unknown tills so that they take as long. */
export const UNMATCHABLE_HASH = `scrypt$${'00'.repeat(16)}$${'00'.repeat(KEY_LENGTH)}`;
