import { hashPassword, md5Hex, UNMATCHABLE_HASH, verifyPassword } from '../../lib/passwords';

/** Tills send the md5 hex of their password; the service stores a salted scrypt hash of it. */
const md5 = md5Hex('demo-password');

describe('till password hashes', () => {
  test('md5Hex gives the md5 hex that Capillary clients send', () => {
    expect(md5Hex('demo-password')).toMatch(/^[0-9a-f]{32}$/);
    expect(md5Hex('')).toBe('d41d8cd98f00b204e9800998ecf8427e');
  });

  test('a hash verifies the md5 it was made from', async () => {
    const stored = await hashPassword(md5);
    await expect(verifyPassword(md5, stored)).resolves.toBe(true);
  });

  test('a hash does not verify another password', async () => {
    const stored = await hashPassword(md5);
    await expect(verifyPassword(md5Hex('Demo-password'), stored)).resolves.toBe(false);
    await expect(verifyPassword(md5.toUpperCase(), stored)).resolves.toBe(false);
    await expect(verifyPassword('', stored)).resolves.toBe(false);
  });

  test('a hash never contains the md5 it protects, nor the password', async () => {
    const stored = await hashPassword(md5);
    expect(stored).not.toContain(md5);
    expect(stored).not.toContain('demo-password');
    expect(stored).toMatch(/^scrypt\$[0-9a-f]{32}\$[0-9a-f]{64}$/);
  });

  test('two hashes of one password differ, because each has its own salt', async () => {
    const [first, second] = await Promise.all([hashPassword(md5), hashPassword(md5)]);
    expect(first).not.toBe(second);
    await expect(verifyPassword(md5, first)).resolves.toBe(true);
    await expect(verifyPassword(md5, second)).resolves.toBe(true);
  });

  test('the hash used for unknown tills verifies no password', async () => {
    await expect(verifyPassword(md5, UNMATCHABLE_HASH)).resolves.toBe(false);
    await expect(verifyPassword('', UNMATCHABLE_HASH)).resolves.toBe(false);
  });

  test.each([
    ['an empty string', ''],
    ['another scheme', `bcrypt$00$${'00'.repeat(32)}`],
    ['no salt', `scrypt$$${'00'.repeat(32)}`],
    ['no hash', 'scrypt$00$'],
    ['a hash that is not hex', 'scrypt$00$zz'],
    ['a hash of a single hex digit', 'scrypt$00$0'],
    ['the md5 itself', md5],
  ])('a stored hash that is not a well-formed scrypt hash (%s) verifies no password', async (_label, stored) => {
    await expect(verifyPassword(md5, stored)).resolves.toBe(false);
  });
});
