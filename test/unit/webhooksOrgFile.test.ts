import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { problemsOfOrgFile, type OrgFile, type WebhookSubscription } from '../../lib/org';
import { problemsOfOrgShape } from '../../lib/schemas/validate';
import { MULTI_ACCOUNT_SOURCES, SOURCES } from '../../lib/vocabulary';

// Webhook subscriptions and event settings in an org file (SPEC section 10; README "Orgs and
// their configuration"): the loader checks the shape against the schema, then the rules the
// schema cannot say. Each mistake is one problem naming its place, and none quotes a secret.

const ORGS = join(__dirname, '..', '..', 'config', 'orgs');
const demoRetail = (): OrgFile => JSON.parse(readFileSync(join(ORGS, 'demo.json'), 'utf8'))[0];
const SECRET = `whsec_${Buffer.alloc(32, 7).toString('base64')}`;

function withWebhooks(...webhooks: Partial<WebhookSubscription>[]): OrgFile {
  return {
    ...demoRetail(),
    webhooks: webhooks.map((w) => ({
      id: 'crm',
      url: 'https://hooks.example.com/in',
      events: ['customer.created'],
      secrets: [SECRET],
      ...w,
    })) as WebhookSubscription[],
  };
}

/** What the loader says, in its order: the shape first, then (when the shape is right) the rules. */
function problems(org: OrgFile): string[] {
  const shape = problemsOfOrgShape(org);
  return shape.length > 0 ? shape : problemsOfOrgFile(org, SOURCES, MULTI_ACCOUNT_SOURCES);
}

describe('webhook subscriptions in an org file', () => {
  test("the demo receiver of org 100 and the example brand's subscription are valid", () => {
    expect(demoRetail().webhooks).toEqual([
      {
        id: 'demo-receiver',
        url: 'http://127.0.0.1:4500/webhooks',
        events: ['customer.created', 'customer.merged', 'customer.updated', 'customer.identifiers_changed', 'customer.erased'],
        secrets: [expect.stringMatching(/^whsec_/)],
      },
    ]);
    expect(problems(demoRetail())).toEqual([]);
    const example = JSON.parse(readFileSync(join(ORGS, 'example-brand.json'), 'utf8'));
    expect(example.webhooks).toHaveLength(1);
    expect(problemsOfOrgShape(example)).toEqual([]);
  });

  test('a subscription with two secrets (a rotation), imports and full events is valid', () => {
    const org = withWebhooks({ secrets: [SECRET, `whsec_${Buffer.alloc(64, 8).toString('base64')}`], includeImports: true });
    expect(problems({ ...org, events: { full: true } })).toEqual([]);
  });

  test.each<[string, Partial<WebhookSubscription>, string]>([
    [
      'an id with a space',
      { id: 'my crm' },
      'org 100: /webhooks/0/id must match pattern "^[A-Za-z0-9_-]{1,64}$"; expected 1 to 64 of A-Z a-z 0-9 _ -, unique in the org, e.g. "crm"',
    ],
    [
      'an id of 65 characters',
      { id: 'x'.repeat(65) },
      'org 100: /webhooks/0/id must match pattern "^[A-Za-z0-9_-]{1,64}$"; expected 1 to 64 of A-Z a-z 0-9 _ -, unique in the org, e.g. "crm"',
    ],
    [
      'a URL that is not http(s)',
      { url: 'ftp://hooks.example.com/in' },
      'org 100: /webhooks/0/url must match pattern "^https?://\\S+$"; expected the URL events are POSTed to: https and a public address in AWS stages (http and loopback on the local stage)',
    ],
    [
      'no event types',
      { events: [] },
      'org 100: /webhooks/0/events must NOT have fewer than 1 items; expected the event types sent, at least one of customer.created, customer.merged, customer.updated, customer.identifiers_changed, customer.erased',
    ],
    [
      'an unknown event type',
      { events: ['customer.deleted' as never] },
      'org 100: /webhooks/0/events/0 must be equal to one of the allowed values; expected one of customer.created, customer.merged, customer.updated, customer.identifiers_changed, customer.erased',
    ],
    [
      'no secrets',
      { secrets: [] },
      'org 100: /webhooks/0/secrets must NOT have fewer than 1 items; expected 1 to 3 signing secrets; each signs every delivery, so a rotation adds the new one before removing the old one',
    ],
    [
      'four secrets',
      { secrets: [1, 2, 3, 4].map((n) => `whsec_${Buffer.alloc(32, n).toString('base64')}`) },
      'org 100: /webhooks/0/secrets must NOT have more than 3 items; expected 1 to 3 signing secrets; each signs every delivery, so a rotation adds the new one before removing the old one',
    ],
    [
      'a secret without its whsec_ prefix',
      { secrets: [Buffer.alloc(32, 9).toString('base64')] },
      'org 100: /webhooks/0/secrets/0 must match pattern',
    ],
    [
      'a secret that is too short',
      { secrets: [`whsec_${Buffer.alloc(8, 9).toString('base64')}`] },
      'org 100: /webhooks/0/secrets/0 must match pattern',
    ],
    [
      'a misspelt key',
      { inclueImports: true } as never,
      'org 100: /webhooks/0/inclueImports is not a key of this object; expected a webhook subscription',
    ],
  ])('%s is refused with one problem saying where and what', (_label, change, problem) => {
    const found = problems(withWebhooks(change));
    expect(found).toHaveLength(1);
    expect(found[0].startsWith(problem)).toBe(true);
  });

  test.each<[string, OrgFile, string]>([
    [
      'two subscriptions with one id',
      withWebhooks({}, { url: 'https://other.example.com/in' }),
      'org 100: webhooks[1].id crm is the id of an earlier subscription: ids must be unique in the org',
    ],
    [
      'a secret of 23 bytes',
      withWebhooks({ secrets: [`whsec_${Buffer.alloc(23, 9).toString('base64')}`] }),
      'org 100: webhooks[0].secrets[0] must be "whsec_" followed by the base64 of 24 to 64 random bytes (this one decodes to 23 bytes)',
    ],
    [
      'a secret of 65 bytes',
      withWebhooks({ secrets: [`whsec_${Buffer.alloc(65, 9).toString('base64')}`] }),
      'org 100: webhooks[0].secrets[0] must be "whsec_" followed by the base64 of 24 to 64 random bytes (this one decodes to 65 bytes)',
    ],
    [
      'a URL with credentials',
      withWebhooks({ url: 'https://user:pass@hooks.example.com/in' }),
      'org 100: webhooks[0].url must not carry credentials (user:password@)',
    ],
    ['a URL that does not parse', withWebhooks({ url: 'https://exa mple.com/in' }), 'org 100: /webhooks/0/url must match pattern'],
  ])('%s is refused', (_label, org, problem) => {
    const found = problems(org);
    expect(found).toHaveLength(1);
    expect(found[0].startsWith(problem)).toBe(true);
  });

  test('no problem quotes a secret', () => {
    const secrets = [
      `whsec_${Buffer.alloc(23, 5).toString('base64')}`,
      `whsec_${Buffer.alloc(32, 5).toString('base64')}!`,
      'not-a-secret-at-all',
    ];
    for (const secret of secrets) {
      const text = [
        ...problemsOfOrgShape(withWebhooks({ secrets: [secret] })),
        ...problemsOfOrgFile(withWebhooks({ secrets: [secret] }), SOURCES, MULTI_ACCOUNT_SOURCES),
      ].join('\n');
      expect(text).toMatch(/secrets/);
      expect(text).not.toContain(secret.slice(6, 20));
    }
  });

  test('events takes only full, true or false', () => {
    expect(problems({ ...demoRetail(), events: { full: 'yes' as never } })).toEqual([
      'org 100: /events/full must be boolean; expected true: events carry the customer as GET /v2/customers/{id} returns it; default false',
    ]);
    expect(problems({ ...demoRetail(), events: { thin: true } as never })).toEqual([
      expect.stringMatching(/^org 100: \/events\/thin is not a key of this object/),
    ]);
  });

  test('at most 10 subscriptions', () => {
    const many = withWebhooks(...Array.from({ length: 11 }, (_, i) => ({ id: `s${i}` })));
    expect(problems(many)).toEqual([expect.stringMatching(/^org 100: \/webhooks must NOT have more than 10 items/)]);
  });
});
