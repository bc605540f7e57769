import type { APIGatewayProxyEvent } from 'aws-lambda';
import document from '../../docs/openapi.json';
import { handler as getOpenApi } from '../../handlers/getOpenApi';
import { serverUrl } from '../../lib/api/openApi';
import { apiEvent, call } from '../support/http';

// GET /v2/openapi.json names the server it was fetched from (a viewer's "try it" then calls the
// API that served it), from a well-formed address only; docs/openapi.json keeps its fixed servers.

const FETCHED = 'the server this document was fetched from';

function fetched(headers: Record<string, string>, requestContext: Partial<APIGatewayProxyEvent['requestContext']> = {}) {
  const event = apiEvent('GET', '/v2/openapi.json', undefined, { till: null, headers });
  return call(getOpenApi as never, { ...event, requestContext: requestContext as APIGatewayProxyEvent['requestContext'] });
}

describe('on the local stage', () => {
  const before = process.env.STAGE_IS_LOCAL;
  beforeAll(() => (process.env.STAGE_IS_LOCAL = 'true'));
  afterAll(() => (before === undefined ? delete process.env.STAGE_IS_LOCAL : (process.env.STAGE_IS_LOCAL = before)));

  test('a document fetched from another port names that port, and is otherwise the committed one', async () => {
    const reply = await fetched({ Host: '127.0.0.1:3456' });
    expect(reply.status).toBe(200);
    expect(reply.body).toEqual({ ...document, servers: [{ url: 'http://127.0.0.1:3456', description: FETCHED }] });
    expect((await fetched({ host: 'localhost:4000' })).body.servers).toEqual([{ url: 'http://localhost:4000', description: FETCHED }]);
    expect((await fetched({ host: '[::1]:3000' })).body.servers).toEqual([{ url: 'http://[::1]:3000', description: FETCHED }]);
  });

  test.each([
    ['a path', '127.0.0.1:3000/evil'],
    ['a quote and markup', 'a"b<script>'],
    ['credentials', 'user@127.0.0.1:3000'],
    ['a space', '127.0.0.1 3000'],
    ['a port out of range', '127.0.0.1:70000'],
    ['a scheme', 'http://127.0.0.1:3000'],
    ['an empty host', ''],
  ])('a Host header with %s is not copied: the committed servers are served', async (_what, host) => {
    expect((await fetched({ Host: host })).body.servers).toEqual(document.servers);
  });

  test('no Host header: the committed servers', async () => {
    expect((await fetched({})).body.servers).toEqual(document.servers);
  });
});

describe('in AWS', () => {
  const context = (domainName: string, stage: string) => ({ domainName, stage });

  test("the execute-api address names the stage's path; a custom domain has none; the Host header is not used", () => {
    expect(serverUrl({ local: false, host: 'evil.example', ...context('abc123.execute-api.eu-west-1.amazonaws.com', 'emea') })).toBe(
      'https://abc123.execute-api.eu-west-1.amazonaws.com/emea',
    );
    expect(serverUrl({ local: false, ...context('api.brand.example', 'emea') })).toBe('https://api.brand.example');
  });

  test('a malformed domain or stage gives no server of its own', async () => {
    expect(serverUrl({ local: false, ...context('abc123.execute-api.eu-west-1.amazonaws.com', 'em/ea') })).toBeUndefined();
    expect(serverUrl({ local: false, ...context('api.brand.example:8443', 'emea') })).toBeUndefined();
    expect(serverUrl({ local: false, host: '127.0.0.1:3000' })).toBeUndefined();
    expect((await fetched({ Host: 'api.brand.example' }, context('bad domain', 'emea'))).body.servers).toEqual(document.servers);
  });

  test('served through API Gateway, the document names that address', async () => {
    const reply = await fetched({ Host: 'whatever' }, context('abc123.execute-api.ap-southeast-1.amazonaws.com', 'asia2'));
    expect(reply.body.servers).toEqual([{ url: 'https://abc123.execute-api.ap-southeast-1.amazonaws.com/asia2', description: FETCHED }]);
  });
});
