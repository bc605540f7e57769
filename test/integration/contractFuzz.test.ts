import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import fc from 'fast-check';
import document from '../../docs/openapi.json';
import { addCustomer, instoreProfile, uniqueMobile } from '../support/customers';
import { apiEvent, call, type EventOptions } from '../support/http';
import { useDemoTable } from '../support/table';

// SPEC section 14 as a property: every operation of docs/openapi.json, sent requests generated
// from the document's own schemas (and some that are not), answers only what the document says
// (`call` holds every response against it: status, body, headers, content type), never a 5xx;
// and a body the document's schema accepts is never refused by the request validator, so no
// schema in the document is looser than the validator's.

useDemoTable();
jest.setTimeout(300_000);

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Schema = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- JSON Schema as the document holds it

const components = (document.components as { schemas: Record<string, Schema> }).schemas;
const resolve = (schema: Schema): Schema =>
  typeof schema.$ref === 'string' ? resolve(components[schema.$ref.replace('#/components/schemas/', '')]) : schema;

/** An arbitrary of values the schema describes (most valid; the validator below says which). */
function arbitraryOf(raw: Schema | boolean, depth = 0): fc.Arbitrary<Json> {
  if (raw === true || raw === undefined) return fc.jsonValue({ maxDepth: 1 }) as fc.Arbitrary<Json>;
  if (raw === false) return fc.constant(null);
  const schema = resolve(raw);
  if ('const' in schema) return fc.constant(schema.const as Json);
  if (schema.enum) return fc.constantFrom(...(schema.enum as Json[]));
  const branches = (schema.oneOf ?? schema.anyOf) as Schema[] | undefined;
  if (branches)
    return fc.oneof(...branches.map((b) => arbitraryOf({ ...schema, oneOf: undefined, anyOf: undefined, ...resolve(b) }, depth)));
  const types: string[] = Array.isArray(schema.type) ? schema.type : schema.type ? [schema.type] : [];
  if (types.length > 1) return fc.oneof(...types.map((type) => arbitraryOf({ ...schema, type }, depth)));
  switch (types[0]) {
    case 'null':
      return fc.constant(null);
    case 'boolean':
      return fc.boolean();
    case 'integer':
      return fc.integer({ min: Math.max(schema.minimum ?? -1e6, -1e15), max: Math.min(schema.maximum ?? 1e6, 1e15) });
    case 'number':
      return fc.double({ min: schema.minimum ?? -1e6, max: schema.maximum ?? 1e6, noNaN: true, noDefaultInfinity: true });
    case 'string': {
      if (schema.format === 'date-time')
        return fc.date({ min: new Date('2001-01-01'), max: new Date('2030-01-01'), noInvalidDate: true }).map((d) => d.toISOString());
      if (schema.format === 'date')
        return fc
          .date({ min: new Date('2001-01-01'), max: new Date('2030-01-01'), noInvalidDate: true })
          .map((d) => d.toISOString().slice(0, 10));
      if (schema.pattern) return fc.stringMatching(new RegExp(schema.pattern)).filter((s) => s.length <= (schema.maxLength ?? 500));
      const minLength = schema.minLength ?? 0;
      return fc.string({ minLength, maxLength: Math.min(schema.maxLength ?? 30, minLength + 30), unit: 'grapheme' });
    }
    case 'array': {
      const minLength = schema.minItems ?? 0;
      if (depth > 3) return fc.constant([]);
      return fc.array(arbitraryOf(schema.items ?? true, depth + 1), {
        minLength,
        maxLength: Math.min(schema.maxItems ?? 3, minLength + 2),
      });
    }
    case 'object':
    default: {
      if (depth > 4) return fc.constant({});
      const properties = (schema.properties ?? {}) as Record<string, Schema>;
      const required = new Set<string>(schema.required ?? []);
      const record: Record<string, fc.Arbitrary<Json>> = {};
      for (const [name, property] of Object.entries(properties)) record[name] = arbitraryOf(property, depth + 1);
      const known = fc.record(record, { requiredKeys: [...required].filter((k) => k in record) });
      const extra =
        schema.additionalProperties && typeof schema.additionalProperties === 'object'
          ? fc.dictionary(fc.string({ minLength: 1, maxLength: 10 }), arbitraryOf(schema.additionalProperties, depth + 1), { maxKeys: 2 })
          : schema.additionalProperties === true
            ? fc.option(fc.constant({ fuzzUnknownKey: 1 }), { nil: {} })
            : fc.constant({});
      return fc.tuple(known, extra).map(([k, e]) => ({ ...e, ...k }) as Json);
    }
  }
}

// The document's schemas as a validator, to know which generated bodies the document accepts.
const ajv = new Ajv2020({ strict: false, allowUnionTypes: true });
addFormats(ajv);
ajv.addSchema({
  $id: 'components.json',
  $defs: JSON.parse(JSON.stringify(components).replaceAll('#/components/schemas/', 'components.json#/$defs/')) as object,
});
const acceptedBy = (schema: Schema) =>
  ajv.compile(JSON.parse(JSON.stringify(schema).replaceAll('#/components/schemas/', 'components.json#/$defs/')) as object);

// The handler of each operation, by its operationId.
const HANDLERS: Record<string, string> = {
  addCustomer: 'addCustomer',
  bulkAddCustomers: 'bulkAddCustomers',
  getCustomer: 'getCustomer',
  lookupCustomer: 'lookupCustomer',
  updateCustomer: 'updateCustomer',
  changeIdentifier: 'changeIdentifier',
  eraseCustomer: 'eraseCustomer',
  exportCustomer: 'exportCustomer',
  customerHistory: 'customerHistory',
  mergeCustomers: 'mergeCustomers',
  unmergeCustomer: 'unmergeCustomer',
  getExtendedFields: 'getExtendedFields',
  getOpenApi: 'getOpenApi',
};

interface Operation {
  method: string;
  path: string;
  operationId: string;
  parameters?: Schema[];
  requestBody?: { content: { 'application/json': { schema: Schema } } };
}

const operations: Operation[] = Object.entries(document.paths as Record<string, Record<string, Schema>>).flatMap(([path, methods]) =>
  Object.entries(methods).map(([method, operation]) => ({ method, path, ...(operation as { operationId: string }) }) as Operation),
);

/** The validator's own refusals: the prefix checkAgainstSchema gives a schema violation (lib/schemas/validate.ts). */
const VALIDATOR_MESSAGE = /^(invalid request|invalid source|invalid identifiers|invalid comm channel): \/\S*/;

async function registered(): Promise<number> {
  const reply = await addCustomer({ profiles: [instoreProfile([{ type: 'mobile', value: uniqueMobile() }])] });
  return reply.body.createdId as number;
}

test('the document has every operation a handler serves, and the fuzz knows each', () => {
  expect(operations.map((o) => o.operationId).sort()).toEqual(Object.keys(HANDLERS).sort());
});

describe.each(operations.map((o) => [o.operationId, o] as const))('%s', (operationId, operation) => {
  test('answers only what the document says, never a 5xx; a body the document accepts passes the validator', async () => {
    const { handler } = (await import(`../../handlers/${HANDLERS[operationId]}`)) as { handler: unknown };
    const bodySchema = operation.requestBody?.content['application/json'].schema;
    const accepts = bodySchema ? acceptedBy(bodySchema) : undefined;
    const parameters = (operation.parameters ?? []).map(resolve).filter((p) => p.in === 'query');
    const query = fc.record(
      Object.fromEntries(parameters.map((p) => [p.name as string, fc.option(arbitraryOf(p.schema).map(String), { nil: undefined })])),
    );
    const body: fc.Arbitrary<Json | undefined> = bodySchema
      ? fc.oneof(
          { weight: 4, arbitrary: arbitraryOf(bodySchema) },
          { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 2 }) as fc.Arbitrary<Json> },
        )
      : fc.constant(undefined);
    const input = fc.record({
      body,
      query,
      real: fc.boolean(),
      id: fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
      till: fc.constantFrom<EventOptions['till']>('demo', 'demo', 'store2', null),
    });
    await fc.assert(
      fc.asyncProperty(input, async ({ body: sent, query: rawQuery, real, id, till }) => {
        const customerId = operation.path.includes('{id}') ? (real ? await registered() : id) : undefined;
        const path = operation.path.replace('{id}', String(customerId));
        const queryParams = Object.fromEntries(Object.entries(rawQuery).filter(([, v]) => v !== undefined)) as Record<string, string>;
        const event: APIGatewayProxyEvent = apiEvent(operation.method.toUpperCase(), path, sent, {
          till,
          query: queryParams,
          ...(customerId === undefined ? {} : { pathParameters: { id: String(customerId) } }),
        });
        // `call` fails the property on any response the document does not describe.
        const reply = await call(handler as never, event);
        expect(reply.status).toBeLessThan(500);
        if (reply.status === 400 && till === 'demo' && accepts && accepts(sent)) {
          const refusals = ((reply.body?.errors ?? []) as { message: string }[]).filter((e) => VALIDATOR_MESSAGE.test(e.message));
          expect({ sent, refusals }).toEqual({ sent, refusals: [] });
        }
      }),
      // FUZZ_RUNS=500 for a longer search than CI's.
      { numRuns: Number(process.env.FUZZ_RUNS ?? 25) },
    );
  });
});
