import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { handler as getOpenApi } from '../../handlers/getOpenApi';
import { asFile, buildOpenApi, buildPostman, OPENAPI_FILE, POSTMAN_FILE } from '../../scripts/build-openapi';
import { expectDocumented } from '../support/contract';
import { apiEvent, call } from '../support/http';

// The contract document of SPEC section 14: docs/openapi.json is what lib/schemas/openapi.ts
// generates from the request and response schemas (run `npm run build:openapi` after changing
// one), docs/postman.json is converted from it, Redocly's recommended rules find nothing in it,
// and GET /v2/openapi.json serves it without credentials.

const ROOT = join(__dirname, '..', '..');
const run = promisify(execFile);
const committed = (file: string) => readFileSync(file, 'utf8');
const generated = buildOpenApi();

/** The value at a path of keys in a JSON tree. */
const at = (node: unknown, ...keys: string[]): unknown =>
  keys.reduce<unknown>((n, k) => (n as Record<string, unknown> | undefined)?.[k], node);

/** Every value in a JSON tree with the key it stands under. */
function* entries(node: unknown, key = ''): Generator<[string, unknown]> {
  yield [key, node];
  if (node !== null && typeof node === 'object') {
    for (const [k, v] of Object.entries(node)) yield* entries(v, k);
  }
}

describe('docs/openapi.json', () => {
  test('is what the schemas generate (run `npm run build:openapi` after changing a schema, a route or an example event)', () => {
    expect(committed(OPENAPI_FILE)).toBe(asFile(generated));
  });

  test('documents exactly the HTTP routes serverless.yml deploys', () => {
    const routes = [...committed(join(ROOT, 'serverless.yml')).matchAll(/- http: \{ path: '?([^,']+)'?, method: (\w+) \}/g)].map(
      ([, path, method]) => `${method.toUpperCase()} /${path}`,
    );
    const documented = Object.entries(generated.paths).flatMap(([path, methods]) =>
      Object.keys(methods).map((m) => `${m.toUpperCase()} ${path}`),
    );
    expect(documented.sort()).toEqual(routes.sort());
  });

  test('needs the till Basic scheme on every operation but the document itself', () => {
    expect(generated.security).toEqual([{ tillBasic: [] }]);
    expect(generated.components.securitySchemes).toEqual({ tillBasic: expect.objectContaining({ type: 'http', scheme: 'basic' }) });
    const open = Object.entries(generated.paths).flatMap(([path, methods]) =>
      Object.entries(methods)
        .filter(([, operation]) => Array.isArray(operation.security) && operation.security.length === 0)
        .map(([method]) => `${method} ${path}`),
    );
    expect(open).toEqual(['get /v2/openapi.json']);
  });

  test('carries the request schemas with their own keywords as x-error-code and x-coerce extensions', () => {
    const keys = [...entries(generated)].map(([key]) => key);
    expect(keys).not.toContain('errorCode');
    expect(keys).not.toContain('coerce');
    expect(keys).not.toContain('$id');
    const schemas = generated.components.schemas;
    expect(at(schemas, 'CommChannel', 'x-error-code')).toBe(8010);
    expect(at(schemas, 'Identifier', 'properties', 'value', 'x-coerce')).toBe(true);
    // Unknown keys are ignored with a warning 8200, not refused: the document says so.
    expect(at(schemas, 'AddCustomerRequest', 'additionalProperties')).toBe(true);
    expect(at(schemas, 'AddCustomerRequest', 'x-unknown-keys')).toBe('ignored with warning 8200');
    expect(at(schemas, 'Profile', 'additionalProperties')).toBe(true);
    expect(at(schemas, 'BulkAddCustomersRequest')).toMatchObject({
      type: 'array',
      minItems: 1,
      maxItems: 100,
      items: { $ref: '#/components/schemas/AddCustomerRequest' },
    });
  });

  test('takes its request examples from the bodies of events/*.json', () => {
    const event = JSON.parse(committed(join(ROOT, 'events', 'full-request.json'))) as { body: string };
    const examples = at(generated.paths, '/v2/customers', 'post', 'requestBody', 'content', 'application/json', 'examples') as object;
    expect(at(examples, 'full-request', 'value')).toEqual(JSON.parse(event.body));
    expect(Object.keys(examples)[0]).toBe('add-customer');
  });

  test('lints clean under Redocly CLI with its recommended rules, offline', async () => {
    const { stdout } = await run(
      process.execPath,
      [require.resolve('@redocly/cli/bin/cli.js'), 'lint', 'docs/openapi.json', '--config', 'redocly.yaml', '--format', 'json'],
      {
        cwd: ROOT,
        // No usage data and no look-up of newer versions: the lint needs no network.
        env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' },
        maxBuffer: 20 * 1024 * 1024,
      },
    );
    const report = JSON.parse(stdout) as { totals: { errors: number; warnings: number }; problems: { ruleId: string; message: string }[] };
    expect(report.problems.map((p) => `${p.ruleId}: ${p.message}`)).toEqual([]);
    expect(report.totals).toMatchObject({ errors: 0, warnings: 0 });
    expect(committed(join(ROOT, 'redocly.yaml'))).toMatch(/^extends:\n {2}- recommended$/m);
  }, 60_000);
});

describe('docs/postman.json', () => {
  test('is the collection openapi-to-postmanv2 converts the document to (run `npm run build:openapi`)', async () => {
    expect(committed(POSTMAN_FILE)).toBe(asFile(await buildPostman(generated)));
  });

  test('sends the demo till as collection variables to http://localhost:3000, and no credentials for the document', () => {
    const collection = JSON.parse(committed(POSTMAN_FILE));
    expect(collection.variable).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ key: 'baseUrl', value: 'http://localhost:3000' }),
        expect.objectContaining({ key: 'tillUsername', value: 'demo.till' }),
        expect.objectContaining({ key: 'tillPasswordMd5', value: '4b4d9529148d8d9440d7e20c78287f69' }),
      ]),
    );
    expect(collection.auth).toEqual({
      type: 'basic',
      basic: expect.arrayContaining([
        expect.objectContaining({ key: 'username', value: '{{tillUsername}}' }),
        expect.objectContaining({ key: 'password', value: '{{tillPasswordMd5}}' }),
      ]),
    });
    type Request = { method: string; url: { path: string[] }; auth?: unknown };
    const requests = [...entries(collection.item)]
      .map(([, v]) => at(v, 'request') as Request | undefined)
      .filter((r) => r?.method) as Request[];
    expect(requests.map((r) => `${r.method} /${r.url.path.join('/')}`).sort()).toEqual([
      'DELETE /v2/customers/:id',
      'GET /v2/customers/:id',
      'GET /v2/customers/:id/export',
      'GET /v2/customers/:id/history',
      'GET /v2/customers/lookup',
      'GET /v2/extendedFields',
      'GET /v2/openapi.json',
      'POST /v2/customers',
      'POST /v2/customers/:id/changeIdentifier',
      'POST /v2/customers/:id/merge',
      'POST /v2/customers/:id/unmerge',
      'POST /v2/customers/bulk',
      'PUT /v2/customers/:id',
    ]);
    expect(requests.find((r) => r.url.path.join('/') === 'v2/openapi.json')?.auth).toEqual({ type: 'noauth' });
  });
});

describe('GET /v2/openapi.json', () => {
  test('answers the committed document without credentials', async () => {
    const reply = await call(getOpenApi as never, apiEvent('GET', '/v2/openapi.json', undefined, { till: null }));
    expect(reply.status).toBe(200);
    expect(reply.headers['Content-Type']).toBe('application/json');
    expect(reply.body).toEqual(JSON.parse(committed(OPENAPI_FILE)));
  });
});

describe('the contract check every integration and e2e response goes through (test/support/contract.ts)', () => {
  const json = { 'Content-Type': 'application/json' };
  const rate = { 'X-RateLimit-Limit': '10', 'X-RateLimit-Remaining': '0', 'X-RateLimit-Reset': '1767225660' };
  const created = { createdId: 4810934829312737, warnings: [], sideEffects: [] };
  const refused = (code: number) => ({ errors: [{ status: false, code, message: 'm' }], warnings: [] });

  test('passes a response as documented, finding templated paths and ignoring the query', () => {
    expect(() =>
      expectDocumented('POST', '/v2/customers?source=INSTORE', { status: 200, headers: { ...json, ...rate }, body: created }),
    ).not.toThrow();
    expect(() => expectDocumented('GET', '/v2/customers/12', { status: 404, headers: json, body: refused(8015) })).not.toThrow();
  });

  test.each([
    ['a route the document lacks', 'GET', '/v2/customers/12/notes', 200, json, {}, /not in docs\/openapi.json/],
    ['a method the document lacks', 'PATCH', '/v2/customers/12', 200, json, {}, /not in docs\/openapi.json/],
    ['a status the route does not document', 'GET', '/v2/extendedFields', 404, json, refused(8015), /status 404 is not documented/],
    ['a body off its schema', 'POST', '/v2/customers', 200, { ...json, ...rate }, { ...created, id: 1 }, /body does not match/],
    ['a code the status does not give', 'POST', '/v2/customers', 409, { ...json, ...rate }, refused(8014), /body does not match/],
    [
      'a required header missing',
      'POST',
      '/v2/customers',
      429,
      { ...json, ...rate },
      refused(429),
      /Retry-After is documented as required/,
    ],
    [
      'a header off its schema',
      'POST',
      '/v2/customers',
      200,
      { ...json, ...rate, 'X-RateLimit-Limit': 'many' },
      created,
      /header X-RateLimit-Limit/,
    ],
    ['another content type', 'GET', '/v2/customers/12', 404, { 'Content-Type': 'text/html' }, refused(8015), /content type/],
  ])('fails loudly on %s', (_label, method, path, status, headers, body, message) => {
    expect(() => expectDocumented(method, path, { status, headers, body })).toThrow(message);
  });
});

describe('links and examples (SPEC section 14)', () => {
  const doc = generated as unknown as { paths: Record<string, Record<string, Record<string, any>>> }; // eslint-disable-line @typescript-eslint/no-explicit-any -- a JSON document

  test("a registration's answer links to every operation on the customer it names, each an operation of the document", () => {
    const operationIds = new Set(Object.values(doc.paths).flatMap((ops) => Object.values(ops).map((op) => op.operationId)));
    const links = doc.paths['/v2/customers'].post.responses['200'].links as Record<string, { operationId: string; parameters: object }>;
    expect(Object.keys(links).sort()).toEqual(
      [
        'changeIdentifier',
        'customerHistory',
        'eraseCustomer',
        'exportCustomer',
        'getCustomer',
        'mergeCustomers',
        'unmergeCustomer',
        'updateCustomer',
      ].sort(),
    );
    for (const link of Object.values(links)) {
      expect(operationIds.has(link.operationId)).toBe(true);
      expect(link.parameters).toEqual({ id: '$response.body#/createdId' });
    }
  });

  test('the example that is invalid on purpose says so; the others do not', () => {
    const examples = doc.paths['/v2/customers'].post.requestBody.content['application/json'].examples as Record<
      string,
      Record<string, unknown>
    >;
    expect(examples['add-customer-invalid']['x-invalid']).toBe(true);
    for (const [name, example] of Object.entries(examples))
      if (name !== 'add-customer-invalid') expect(example['x-invalid']).toBeUndefined();
  });
});
