import Ajv2020, { type ValidateFunction } from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import document from '../../docs/openapi.json';

// Every response the integration and e2e suites receive is held against docs/openapi.json (the
// document GET /v2/openapi.json serves; test/unit/openapi.test.ts keeps it equal to what the
// schemas generate), so the document cannot drift from behaviour: the route and status must be
// documented, the body must match the schema of that status, and the headers the document
// marks required must be there (and every documented header must fit its schema).

type Method = 'get' | 'post' | 'put' | 'delete' | 'patch';

interface Header {
  required?: boolean;
  schema: object;
}

interface Response {
  headers?: Record<string, Header>;
  content?: Record<string, { schema: object }>;
}

const paths = document.paths as unknown as Record<string, Partial<Record<Method, { responses: Record<string, Response> }>>>;

const ajv = new Ajv2020({ allErrors: true, strict: true, allowUnionTypes: true });
addFormats(ajv);
// The request schemas' own keywords, as the document carries them.
ajv.addKeyword({ keyword: 'x-error-code', schemaType: 'number' });
ajv.addKeyword({ keyword: 'x-coerce', schemaType: 'boolean' });

/** The document's `#/components/schemas/X` refs, as refs into one JSON Schema of the components. */
function schemaOf(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(schemaOf);
  if (node === null || typeof node !== 'object') return node;
  return Object.fromEntries(
    Object.entries(node).map(([key, value]) => [
      key,
      key === '$ref' && typeof value === 'string' ? value.replace('#/components/schemas/', 'components.json#/$defs/') : schemaOf(value),
    ]),
  );
}
ajv.addSchema({ $id: 'components.json', $defs: schemaOf(document.components.schemas) as object });

const validators = new Map<object, ValidateFunction>();

function validatorOf(schema: object): ValidateFunction {
  let validate = validators.get(schema);
  if (!validate) {
    validate = ajv.compile(schemaOf(schema) as object);
    validators.set(schema, validate);
  }
  return validate;
}

/** The documented path a request path is an instance of: literal paths before templated ones. */
function documentedPath(path: string): string | undefined {
  const candidates = Object.keys(paths).sort((a, b) => Number(a.includes('{')) - Number(b.includes('{')));
  return candidates.find((template) => {
    const pattern = template.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\\?\{[^}]+\\?\}/g, '[^/]+');
    return new RegExp(`^${pattern}$`).test(path);
  });
}

export interface ObservedResponse {
  status: number;
  /** Response headers, any case. */
  headers: Record<string, string | undefined> | Headers;
  /** The parsed JSON body (undefined when there was none). */
  body: unknown;
}

const lowerCased = (headers: ObservedResponse['headers']): Map<string, string> => {
  const entries = headers instanceof Headers ? [...headers.entries()] : Object.entries(headers);
  return new Map(entries.filter((e): e is [string, string] => e[1] !== undefined).map(([k, v]) => [k.toLowerCase(), String(v)]));
};

/** Throws, naming what differs, unless the response is what the document says the route answers. */
export function expectDocumented(method: string, url: string, response: ObservedResponse): void {
  // As sent, not parsed as a URL (which would trim a path's trailing space, an id a test may send).
  const path = url.split('?')[0];
  const what = `${method.toUpperCase()} ${path} answered ${response.status}`;
  const template = documentedPath(path);
  const operation = template ? paths[template][method.toLowerCase() as Method] : undefined;
  if (!template || !operation) throw new Error(`${what}: the route is not in docs/openapi.json`);
  const documented = operation.responses[String(response.status)];
  if (!documented) throw new Error(`${what}: status ${response.status} is not documented for ${method.toUpperCase()} ${template}`);

  const headers = lowerCased(response.headers);
  const problems: string[] = [];
  for (const [name, header] of Object.entries(documented.headers ?? {})) {
    const value = headers.get(name.toLowerCase());
    if (value === undefined) {
      if (header.required) problems.push(`header ${name} is documented as required but missing`);
      continue;
    }
    const schemaType = (header.schema as { type?: string }).type;
    const typed = schemaType === 'integer' && /^-?\d+$/.test(value) ? Number(value) : value;
    const validate = validatorOf(header.schema);
    if (!validate(typed)) problems.push(`header ${name}: ${JSON.stringify(value)} ${ajv.errorsText(validate.errors)}`);
  }

  const contentType = (headers.get('content-type') ?? '').split(';')[0].trim();
  const mediaTypes = Object.keys(documented.content ?? {});
  if (!mediaTypes.includes(contentType))
    problems.push(`content type ${JSON.stringify(contentType)} is not one of ${mediaTypes.join(', ')}`);
  else if (response.body === undefined) problems.push('the body is empty');
  else {
    const validate = validatorOf(documented.content![contentType].schema);
    if (!validate(response.body)) {
      problems.push(`body does not match the documented schema: ${ajv.errorsText(validate.errors, { separator: '; ' })}`);
    }
  }
  if (problems.length > 0) {
    throw new Error(
      `${what}, not as docs/openapi.json documents it:\n- ${problems.join('\n- ')}\nbody: ${JSON.stringify(response.body)?.slice(0, 2000)}`,
    );
  }
}
