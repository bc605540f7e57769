import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ROOT, useOffline } from '../support/offline';

// The README's shell examples, run as a new user would paste them, in order, in one shell,
// against serverless offline: every `sh` block that calls http://localhost:3000, with the
// port of this run's server. Their answers are checked against what the README says of them.

const run = promisify(execFile);
const offline = useOffline();

/** The README's `sh` blocks that call the API with curl, in order (not the ones that install, start or deploy). */
function readmeBlocks(): string[] {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  return [...readme.matchAll(/```sh\n([\s\S]*?)```/g)]
    .map((m) => m[1])
    .filter((block) => /^\s*(AUTH=|ID=\$\(curl|curl )/m.test(block) && !/\b(npm|npx|aws)\s/.test(block));
}

test('the README shows its API examples as shell blocks: the calls, the full request, the bulk add, and changing and erasing', () => {
  const blocks = readmeBlocks();
  expect(blocks.length).toBeGreaterThanOrEqual(4);
  expect(blocks[0]).toMatch(/^AUTH=/);
});

test('the README examples run in order as written and answer what the README says', async () => {
  const port = new URL(offline.url).port;
  // Each answer on a line of its own, as a terminal shows them one after the other.
  const script = [
    'set -euo pipefail',
    'curl() { command curl "$@"; echo; }',
    ...readmeBlocks().map((b, i) => `echo "=== block ${i}"\n${b}\necho`),
  ]
    .join('\n')
    .replaceAll('localhost:3000', `127.0.0.1:${port}`);
  const { stdout } = await run('bash', ['-c', script], { cwd: ROOT, maxBuffer: 10 * 1024 * 1024 });
  const lines = stdout.split('\n').filter((line) => line.trim() !== '' && !line.startsWith('==='));

  // Block 0: the new customer's id, the merge (same id, 8050), the lookup, the GET document, the extended fields.
  const id = Number(lines[0]);
  expect(Number.isSafeInteger(id) && id > 0).toBe(true);
  const merged = JSON.parse(lines[1]);
  expect(merged.createdId).toBe(id);
  expect(merged.warnings.map((w: { code: number }) => w.code)).toContain(8050);
  expect(JSON.parse(lines[2])).toEqual({ entity: id, warnings: [] });
  const customer = JSON.parse(lines[3]);
  expect(customer.id).toBe(id);
  expect(customer.profiles.map((p: { source: string }) => p.source)).toEqual(['INSTORE', 'WECHAT']);
  expect(JSON.parse(lines[4]).success).toBe(true);

  // The full request: a new customer with a card and points, as the README's answer shows.
  const full = JSON.parse(lines[5]);
  expect(full).toEqual({
    createdId: expect.any(Number),
    warnings: [],
    sideEffects: [
      { type: 'card', cardNumber: expect.stringMatching(/^DEMO\d{12}$/), seriesId: 501, seriesCode: 'DEMO-GEN', statusLabel: 'ACTIVE' },
      { type: 'points', entityType: 'USER', programId: 1, awardedPoints: 500 },
    ],
  });

  // The bulk add: a new customer, the same shopper merged from ECOMMERCE, an invalid mobile.
  const bulk = JSON.parse(lines[6]);
  expect(bulk.map((item: { status: number }) => item.status)).toEqual([200, 200, 400]);
  expect(bulk[1].entity).toEqual(bulk[0].entity);
  expect(bulk[2].errors[0]).toEqual(expect.objectContaining({ code: 8014, path: '/profiles/0/identifiers/0/value' }));

  // Changing and erasing: the update, the new mobile, the GET showing both, the export, the erase, then 404 for the GET and the lookup.
  const updated = JSON.parse(lines[7]);
  const changedId = updated.createdId;
  expect(Number.isSafeInteger(changedId) && changedId > 0 && changedId !== id).toBe(true);
  expect(updated).toEqual({ createdId: changedId, warnings: [], sideEffects: [] });
  expect(JSON.parse(lines[8])).toEqual({ createdId: changedId, warnings: [], sideEffects: [] });
  const changed = JSON.parse(lines[9]);
  expect(changed.id).toBe(changedId);
  expect(changed.profiles).toHaveLength(1);
  expect(changed.profiles[0]).toMatchObject({
    firstName: 'Ravi',
    lastName: 'Nair-Menon',
    source: 'INSTORE',
    identifiers: [{ type: 'mobile', value: '919845093618' }],
    commChannels: [expect.objectContaining({ type: 'email', value: 'ravi.nair@example.com' })],
    fields: { preferred_language: 'ml' },
    attribution: {
      createDate: expect.any(String),
      createdBy: { code: 'demo.till', type: 'TILL' },
      modifiedDate: expect.any(String),
      modifiedBy: { code: 'demo.till', type: 'TILL' },
    },
  });
  expect(changed.extendedFields).toEqual({ city: 'Kochi' });
  // The export: the GET document, its one profile, the default enrollment, when it was made.
  const exported = JSON.parse(lines[10]);
  expect(exported.customer).toEqual(changed);
  expect(exported.profiles).toEqual(changed.profiles);
  expect(exported).toMatchObject({ enrollments: [{ programId: 1, tierNumber: 1, loyaltyPoints: 0 }], idempotencyKeys: [] });
  // The history as far as the stream publisher has written it: only this customer's own changes, newest first.
  for (const entry of exported.history) expect(['created', 'updated', 'identifiers_changed']).toContain(entry.type);
  expect(Date.parse(exported.generatedAt)).not.toBeNaN();
  expect(JSON.parse(lines[11])).toEqual({ entity: { id: changedId, status: 'ERASED' }, warnings: [] });
  for (const gone of [lines[12], lines[13]]) {
    expect(JSON.parse(gone)).toEqual({ errors: [expect.objectContaining({ status: false, code: 8015 })], warnings: [] });
  }

  // Merging, unmerging and the history: the preview, the merge (the same document), the victim's id answering the survivor with 91009,
  // the unmerge back into the victim, the survivor's history.
  const preview = JSON.parse(lines[14]);
  expect(preview.profiles.map((p: { source: string }) => p.source)).toEqual(['INSTORE', 'WECHAT']);
  const survivor = preview.id;
  expect(JSON.parse(lines[15])).toEqual(preview);
  const asVictim = JSON.parse(lines[16]);
  expect(asVictim.id).toBe(survivor);
  expect(asVictim.warnings.map((w: { code: number }) => w.code)).toEqual([91009]);
  const unmerged = JSON.parse(lines[17]);
  expect(unmerged).toEqual({
    entity: { id: expect.any(Number) },
    kept: [],
    moved: [{ type: 'email', value: 'meera.k@example.com' }],
    warnings: [],
  });
  expect(unmerged.entity.id).not.toBe(survivor);
  const history = JSON.parse(lines[18]);
  expect(history.entries.map((e: { type: string }) => e.type)).toEqual(['unmerged', 'merged_customer', 'created']);
  expect(history.entries[1].details.victimId).toBe(unmerged.entity.id);
  expect(history.next).toBeNull();
  expect(lines).toHaveLength(19);
}, 120_000);
