import { join } from 'node:path';
import { handler as extendedFieldsHandler } from '../../handlers/getExtendedFields';
import { loadOrgFiles } from '../../scripts/loadOrgs';
import { apiEvent, basicAuth, call } from '../support/http';
import { allItems, useDemoTable } from '../support/table';
import { keys } from '../../lib/store/keys';
import { readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';

// Org files as an operator writes them (README "Orgs and their configuration"): the example
// brand loads as shipped, its notes are not stored, a file of the wrong shape is refused whole
// with the form expected, and reloading a file with a new password rotates it.

useDemoTable();

// A warm instance keeps a verified credential for CONFIG_CACHE_SECONDS (60 by default); with 0
// this file's process keeps none, as a new instance would.
beforeAll(() => {
  process.env.CONFIG_CACHE_SECONDS = '0';
});
afterAll(() => {
  delete process.env.CONFIG_CACHE_SECONDS;
});

const EXAMPLE = join(__dirname, '..', '..', 'config', 'orgs', 'example-brand.json');
const fieldsAs = (username: string, password: string) =>
  call(
    extendedFieldsHandler as never,
    apiEvent('GET', '/v2/extendedFields', undefined, { till: null, headers: { Authorization: basicAuth(username, password) } }),
  );

function writtenCopy(change: (org: any) => void): string {
  const org = JSON.parse(readFileSync(EXAMPLE, 'utf8'));
  change(org);
  const path = join(mkdtempSync(join(tmpdir(), 'org-')), 'brand.json');
  writeFileSync(path, JSON.stringify(org));
  return path;
}

test('the example brand loads as shipped, its tills answer, and its $comment notes are not stored', async () => {
  expect(await loadOrgFiles([EXAMPLE])).toEqual([4100]);
  const reply = await fieldsAs('example.web', 'change-me-before-loading');
  expect(reply.status).toBe(200);
  expect(reply.body.entity.customer.map((f: { name: string }) => f.name)).toEqual(['gender', 'dob', 'city']);
  const stored = (await allItems()).find((item) => item.pk === keys.org(4100).pk);
  expect(JSON.stringify(stored)).not.toContain('$comment');
  expect(JSON.stringify(stored)).not.toContain('$schema');
});

test('a file of the wrong shape is refused whole with the form expected, and nothing of it is loaded', async () => {
  const path = writtenCopy((org) => {
    org.orgId = 4200;
    org.sources.MOBILE_APP = ['example-ios'];
  });
  await expect(loadOrgFiles([path])).rejects.toThrow(/\/sources\/MOBILE_APP must be object; expected an object \{"accounts": \[\.\.\.\]\}/);
  expect((await allItems()).find((item) => item.pk === keys.org(4200).pk)).toBeUndefined();
});

test('reloading the file with a new password rotates it: once the cache of verified credentials has expired, the old one is 401', async () => {
  await loadOrgFiles([EXAMPLE]);
  expect((await fieldsAs('example.web', 'change-me-before-loading')).status).toBe(200);
  const rotated = writtenCopy((org) => {
    org.tills[1].password = 'a-new-password';
  });
  await loadOrgFiles([rotated]);
  expect((await fieldsAs('example.web', 'change-me-before-loading')).status).toBe(401);
  expect((await fieldsAs('example.web', 'a-new-password')).status).toBe(200);
});

test('a till taken out of the file is refused once the file is loaded again', async () => {
  await loadOrgFiles([EXAMPLE]);
  expect((await fieldsAs('example.web', 'change-me-before-loading')).status).toBe(200);
  await loadOrgFiles([writtenCopy((org) => org.tills.splice(1, 1))]);
  expect((await fieldsAs('example.web', 'change-me-before-loading')).status).toBe(401);
});
