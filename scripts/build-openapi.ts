// `npm run build:openapi`: writes docs/openapi.json (lib/schemas/openapi.ts, with the example
// requests of events/*.json) and docs/postman.json, a Postman collection converted from it
// (openapi-to-postmanv2, offline) with the demo till's credentials as collection variables.
// test/unit/openapi.test.ts fails when either committed file differs from what this builds.

import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { convertV2 } from 'openapi-to-postmanv2';
import { openApiDocument, type ApiEvent, type OpenApiDocument } from '../lib/schemas/openapi';

const ROOT = join(__dirname, '..');
export const OPENAPI_FILE = join(ROOT, 'docs', 'openapi.json');
export const POSTMAN_FILE = join(ROOT, 'docs', 'postman.json');

/** The demo till of SPEC section 7 (`demo.till` / `demo-password`), as a Capillary client sends it. */
const DEMO_TILL = { username: 'demo.till', passwordMd5: '4b4d9529148d8d9440d7e20c78287f69' };

/** The API Gateway events of events/*.json (files of other events, such as the import worker's, are skipped). */
function apiEvents(): ApiEvent[] {
  const folder = join(ROOT, 'events');
  return readdirSync(folder)
    .filter((file) => file.endsWith('.json'))
    .sort()
    .map((file) => ({ name: file.replace(/\.json$/, ''), ...(JSON.parse(readFileSync(join(folder, file), 'utf8')) as Partial<ApiEvent>) }))
    .filter((event): event is ApiEvent => typeof event.httpMethod === 'string' && typeof event.resource === 'string');
}

export function buildOpenApi(): OpenApiDocument {
  const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
  return openApiDocument(apiEvents(), version);
}

type Collection = { info: Record<string, unknown>; auth?: unknown; variable?: { key: string; value: string; type?: string }[] } & Record<
  string,
  unknown
>;

/** The Postman collection of the document: requests by tag, example values, the demo till's credentials as variables. */
export async function buildPostman(document: OpenApiDocument): Promise<Collection> {
  const collection = await new Promise<Collection>((resolve, reject) =>
    convertV2(
      { type: 'json', data: document },
      {
        folderStrategy: 'Tags',
        parametersResolution: 'Example',
        requestNameSource: 'Fallback',
        // Optional query parameters and headers are there to switch on, not sent by default.
        enableOptionalParameters: false,
        alwaysInheritAuthentication: true,
      },
      (error, result) => {
        if (error) reject(error);
        else if (!result?.result || !result.output) reject(new Error(`openapi-to-postmanv2: ${result?.reason ?? 'no collection'}`));
        else resolve(result.output[0].data as unknown as Collection);
      },
    ),
  );
  settle(collection, document);
  collection.auth = {
    type: 'basic',
    basic: [
      { key: 'username', value: '{{tillUsername}}', type: 'string' },
      { key: 'password', value: '{{tillPasswordMd5}}', type: 'string' },
    ],
  };
  collection.variable = [
    ...(collection.variable ?? []).filter((v) => !['baseUrl', 'tillUsername', 'tillPasswordMd5'].includes(v.key)),
    { key: 'baseUrl', value: 'http://localhost:3000', type: 'string' },
    { key: 'tillUsername', value: DEMO_TILL.username, type: 'string' },
    { key: 'tillPasswordMd5', value: DEMO_TILL.passwordMd5, type: 'string' },
  ];
  return collection;
}

/** The converter draws ids at random: ids from where each thing is make the file the same on every build. */
function stableId(seed: string): string {
  const hex = createHash('sha256').update(seed).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

interface Item {
  id?: string;
  name?: string;
  item?: Item[];
  request?: { method?: string; url?: { path?: string[] }; auth?: unknown };
  response?: { id?: string; name?: string; code?: number }[];
}

/**
 * Ids from names, example names cut to their first line (the document's descriptions list the
 * codes below it), and no credentials for the operations the document needs none for.
 */
function settle(collection: Collection, document: OpenApiDocument): void {
  const open = new Set<string>();
  for (const [path, methods] of Object.entries(document.paths)) {
    for (const [method, operation] of Object.entries(methods)) {
      if (Array.isArray(operation.security) && operation.security.length === 0) open.add(`${method.toUpperCase()} ${path}`);
    }
  }
  collection.info._postman_id = stableId(String(collection.info.name));
  const visit = (items: Item[], parent: string) => {
    for (const item of items) {
      const where = `${parent}/${item.name ?? ''}`;
      item.id = stableId(where);
      if (item.item) visit(item.item, where);
      if (item.request) {
        const path = `/${(item.request.url?.path ?? []).join('/').replace(/:(\w+)/g, '{$1}')}`;
        if (open.has(`${item.request.method} ${path}`)) item.request.auth = { type: 'noauth' };
      }
      for (const response of item.response ?? []) {
        response.name = (response.name ?? '').split('\n')[0];
        response.id = stableId(`${where}/${response.code}/${response.name}`);
      }
    }
  };
  visit(collection.item as Item[], '');
}

export const asFile = (value: unknown) => `${JSON.stringify(value, null, 2)}\n`;

async function main(): Promise<void> {
  const document = buildOpenApi();
  writeFileSync(OPENAPI_FILE, asFile(document));
  console.log(`wrote ${OPENAPI_FILE}`);
  writeFileSync(POSTMAN_FILE, asFile(await buildPostman(document)));
  console.log(`wrote ${POSTMAN_FILE}`);
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
