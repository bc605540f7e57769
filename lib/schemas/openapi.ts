// The OpenAPI 3.1 document of every route (SPEC section 14), built from the schemas that
// validate the requests (addCustomer.schema.ts, bulkAddCustomers.schema.ts) and the response
// schemas (responses.schema.ts), never written twice. Pure: the examples come in as API Gateway
// events (events/*.json, read by scripts/build-openapi.ts), whose `body` strings are the
// request examples. `npm run build:openapi` writes the result to docs/openapi.json, which
// GET /v2/openapi.json serves; a unit test fails when the committed file drifts from this.
//
// The request schemas' own keywords become extensions: `errorCode` is `x-error-code` (the code
// a violation inside that subschema is reported with), `coerce` is `x-coerce` (tolerant input,
// SPEC section 3: the schema keeps the canonical type). Any other keyword unknown to JSON
// Schema fails the build, so none reaches the document unnoticed.

import { ApiError, Code, type ErrorCode } from '../errors';
import { MAX_IDENTIFIER_LENGTH } from '../identifiers';
import { IDENTIFIER_TYPES, MULTI_ACCOUNT_SOURCES, SOURCES } from '../vocabulary';
import { addCustomerSchema, MAX_BODY_BYTES } from './addCustomer.schema';
import { bulkAddCustomersSchema, MAX_BULK_BODY_BYTES, MAX_BULK_ITEMS } from './bulkAddCustomers.schema';
import { changeIdentifierSchema } from './changeIdentifier.schema';
import { mergeCustomersSchema, unmergeCustomerSchema } from './mergeCustomers.schema';
import { updateCustomerSchema } from './updateCustomer.schema';
import {
  addCustomerResponseSchema,
  bulkAddCustomersResponseSchema,
  bulkItemResultSchema,
  changeCustomerResponseSchema,
  customerDocumentSchema,
  eraseCustomerResponseSchema,
  exportCustomerResponseSchema,
  historyEntrySchema,
  historyPageSchema,
  errorBodySchema,
  extendedFieldsResponseSchema,
  lookupResponseSchema,
  problemSchema,
  sideEffectSchema,
  unmergeResponseSchema,
  warningSchema,
} from './responses.schema';

/** An API Gateway proxy event as events/*.json hold them, named by its file. */
export interface ApiEvent {
  name: string;
  httpMethod: string;
  resource: string;
  headers?: Record<string, string> | null;
  queryStringParameters?: Record<string, string> | null;
  pathParameters?: Record<string, string> | null;
  body?: string | null;
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

export interface OpenApiDocument {
  openapi: '3.1.0';
  info: JsonObject;
  servers: JsonObject[];
  externalDocs: JsonObject;
  security: JsonObject[];
  tags: JsonObject[];
  paths: Record<string, Record<string, JsonObject>>;
  components: JsonObject;
}

const SECURITY_SCHEME = 'tillBasic';
const ref = (kind: string, name: string): JsonObject => ({ $ref: `#/components/${kind}/${name}` });
const schemaRef = (name: string) => ref('schemas', name);

// ---------------------------------------------------------------------------------------------
// Schemas: the request and response schemas, converted, with named parts as components.

/** The request schemas' parts that get a name of their own, found where the schema keeps them. */
const profile = addCustomerSchema.properties.profiles.items;
const REQUEST_PARTS = new Map<object, string>([
  [addCustomerSchema, 'AddCustomerRequest'],
  [profile, 'Profile'],
  [profile.properties.identifiers.items, 'Identifier'],
  [profile.properties.commChannels.items, 'CommChannel'],
  [profile.properties.fields, 'CustomFields'],
  [addCustomerSchema.properties.extendedFields, 'ExtendedFields'],
  [addCustomerSchema.properties.loyaltyProgramEnrollments.items, 'LoyaltyProgramEnrollment'],
  [updateCustomerSchema, 'UpdateCustomerRequest'],
  [changeIdentifierSchema, 'ChangeIdentifierRequest'],
  [mergeCustomersSchema, 'MergeCustomersRequest'],
  [unmergeCustomerSchema, 'UnmergeCustomerRequest'],
]);

const RESPONSE_PARTS = new Map<object, string>([
  [problemSchema, 'Problem'],
  [warningSchema, 'Warning'],
  [sideEffectSchema, 'SideEffect'],
  [addCustomerResponseSchema, 'AddCustomerResponse'],
  [bulkItemResultSchema, 'BulkItemResult'],
  [bulkAddCustomersResponseSchema, 'BulkAddCustomersResponse'],
  [customerDocumentSchema, 'CustomerDocument'],
  [lookupResponseSchema, 'LookupResponse'],
  [extendedFieldsResponseSchema, 'ExtendedFieldsResponse'],
  [changeCustomerResponseSchema, 'ChangeCustomerResponse'],
  [eraseCustomerResponseSchema, 'EraseCustomerResponse'],
  [historyEntrySchema, 'HistoryEntry'],
  [exportCustomerResponseSchema, 'ExportCustomerResponse'],
  [historyPageSchema, 'HistoryPage'],
  [unmergeResponseSchema, 'UnmergeResponse'],
]);

/** What the request schemas do not say in their own words: descriptions, by component and property. */
const DESCRIPTIONS: Record<string, Record<string, string>> = {
  AddCustomerRequest: {
    '': [
      `A customer to register, at most ${MAX_BODY_BYTES / 1024} KiB. Keys the schema does not list are not refused:`,
      'they are ignored with a warning 8200 naming their path, so a typo is never silent. `x-error-code` names the code a violation',
      'inside that part is reported with (400 elsewhere); `x-coerce` marks tolerant input (a non-negative safe integer sent as a',
      'JSON number is read as its digits where a string is expected, a string of digits as the integer where an integer is expected;',
      'an integer beyond 2^53 − 1 is 400: send it as a string).',
    ].join(' '),
    loyaltyType: '`loyalty` (the default) or `non_loyalty`. `loyaltyInfo.loyaltyType` says the same; the two must agree.',
    profiles: 'The profiles of the one customer being registered, no two in the same source and account.',
    createDate:
      "ISO 8601 date-time with offset, at most five minutes in the future and not before the org's earliest date (8017); default now.",
    associatedWith:
      'A till code of the org; an unknown one is warning 8077 and the authenticated till is used. Default the authenticated till.',
    endPointsEnabled: 'Marks a test customer.',
    activity: 'Assigned by the service (ACTIVE); a value sent is ignored with a warning 8200.',
  },
  Profile: {
    '': 'One profile of the customer: a source (and account) and the identifiers seen there.',
    firstName: 'Trimmed, kept as sent otherwise.',
    source: `One of ${SOURCES.join(', ')}, enabled for the org (8003). Filled from \`?source=\` when absent (8004 when neither is given).`,
    accountId: `Required for the multi-account sources ${[...MULTI_ACCOUNT_SOURCES].join(', ')} (8045), one of the org's accounts for the source (8127); filled from \`?accountId=\`; ignored with a warning on other sources.`,
    identifiers: 'At least one valid identifier (8005), at most one of each type.',
  },
  Identifier: {
    '': [
      `An identifier: \`type\` one of ${IDENTIFIER_TYPES.join(', ')} (\`cardnumber\` is an alias of \`card\`).`,
      'Each value belongs to at most one customer of the org. Mobiles are normalised to digits with country code (8014 when invalid),',
      'emails trimmed and lower-cased (8055), every value brought to NFC without invisible format characters. Card identifiers take',
      '`seriesId` or `seriesCode`, `statusLabel` (required) and optional `fields` and `extendedFields`; omit `value` to have a',
      'generating series draw the number (side effect `card`).',
    ].join(' '),
  },
  CommChannel: {
    '': 'A way to reach the customer. Flags may be sent as "true" / "false"; `meta.lastViewedDate` only on mobilePush. Email and mobile values are validated (8057, 8058).',
  },
  CustomFields: { '': 'Custom fields: string keys (at most 64 characters) to string values (at most 255).' },
  ExtendedFields: {
    '': 'Extended fields as enabled for the org (GET /v2/extendedFields lists them, with their data types); judged against those definitions (91015). `null` and `""` values are dropped.',
  },
  LoyaltyProgramEnrollment: {
    '': 'Enrollment in a program of the org (1213) at a tier of it (8201; default tier 1) with points (default 0). Expiry dates are ISO 8601 with offset, after createDate (8203). A `non_loyalty` customer cannot be enrolled (8121); a `loyalty` customer sent without enrollments joins the default program at tier 1.',
  },
  UpdateCustomerRequest: {
    '': [
      'The changes to one customer, every part optional. `profiles` holds at most one profile: the one named by `?source=&accountId=`',
      '(default the customer\'s first profile). `fields` and `extendedFields` merge key by key; a key sent as `null` or `""` is removed;',
      'an empty name removes the name; a comm channel replaces the stored one of its type. `source`, `accountId` and `identifiers` in',
      'a profile are 400 (identifiers change through changeIdentifier). Unknown keys are ignored with a warning 8200.',
    ].join(' '),
    loyaltyType: 'A `non_loyalty` customer may become `loyalty` (and joins the default program at tier 1); the reverse is 8018.',
  },
  ChangeIdentifierRequest: {
    '': [
      'Identifiers to add to and remove from one profile (named by `?source=&accountId=`, default the first), applied in one',
      'transaction, removals first: replacing a value is one request with both. Values are normalised and guarded as on registration.',
      'An added value another customer holds is 409 / 8053; one this customer holds already is a warning 8200. A profile keeps at',
      'most one value of a type and never ends without an identifier (8005). A removed value is freed (a new shopper can register',
      "it) unless another of the customer's profiles lists it too.",
    ].join(' '),
    add: 'Identifiers as a registration takes them; a card (`seriesId` or `seriesCode`, `statusLabel`) is linked, its number drawn by a generating series when `value` is omitted.',
    remove: 'Identifiers of the profile, by type and value.',
  },
  BulkAddCustomersRequest: {
    '': `1 to ${MAX_BULK_ITEMS} add-customer bodies, at most ${MAX_BULK_BODY_BYTES / 1024 / 1024} MiB. Each item is judged on its own, exactly as a body of POST /v2/customers (an invalid item never fails its siblings, an item over ${MAX_BODY_BYTES / 1024} KiB is that item's 413); the envelope is judged only by its own bounds.`,
  },
};

/** Keywords of JSON Schema 2020-12 the schemas use, and what their values are. */
const SUBSCHEMA = new Set(['items', 'additionalProperties', 'propertyNames', 'not', 'contains', 'if', 'then', 'else']);
const SUBSCHEMA_LISTS = new Set(['anyOf', 'oneOf', 'allOf', 'prefixItems']);
const SUBSCHEMA_MAPS = new Set(['properties', 'patternProperties', '$defs']);
const VALUE_KEYWORDS = new Set([
  'type',
  'enum',
  'const',
  'required',
  'minimum',
  'maximum',
  'exclusiveMinimum',
  'exclusiveMaximum',
  'multipleOf',
  'minLength',
  'maxLength',
  'pattern',
  'format',
  'minItems',
  'maxItems',
  'uniqueItems',
  'minProperties',
  'maxProperties',
  'description',
  'title',
  'default',
  'examples',
]);
/** The schemas' own keywords, as OpenAPI extensions. */
const EXTENSIONS: Record<string, string> = { errorCode: 'x-error-code', coerce: 'x-coerce' };

/** A schema as the document holds it: extensions for custom keywords, named parts by $ref, no $id. */
function convert(schema: object, names: Map<object, string>, root = schema): JsonObject {
  // `true` and `false` are schemas too (`additionalProperties: false`).
  if (typeof schema === 'boolean') return schema as unknown as JsonObject;
  const name = names.get(schema);
  if (name !== undefined && schema !== root) return schemaRef(name);
  const out: JsonObject = {};
  for (const [keyword, value] of Object.entries(schema)) {
    if (keyword === '$id') continue;
    // A request's unknown keys are not refused: each is ignored with a warning 8200 naming its
    // path (SPEC section 3). The validator says `false` to find them; the document says what the
    // service does.
    if (keyword === 'additionalProperties' && value === false && names === REQUEST_PARTS) {
      out.additionalProperties = true;
      out['x-unknown-keys'] = 'ignored with warning 8200';
      continue;
    }
    // A rule judged when the request is read is stated as the keywords it holds (the service refuses what they refuse).
    if (keyword === 'whenRead') Object.assign(out, convert(value as object, names, root));
    else if (keyword in EXTENSIONS) out[EXTENSIONS[keyword]] = value as Json;
    else if (SUBSCHEMA.has(keyword)) out[keyword] = convert(value as object, names, root);
    else if (SUBSCHEMA_LISTS.has(keyword)) out[keyword] = (value as object[]).map((s) => convert(s, names, root));
    else if (SUBSCHEMA_MAPS.has(keyword)) {
      out[keyword] = Object.fromEntries(Object.entries(value as object).map(([k, s]) => [k, convert(s as object, names, root)]));
    } else if (VALUE_KEYWORDS.has(keyword)) out[keyword] = structuredClone(value) as Json;
    else throw new Error(`schema keyword ${keyword} is neither JSON Schema nor one with an OpenAPI extension`);
  }
  return out;
}

function described(name: string, schema: JsonObject): JsonObject {
  const descriptions = DESCRIPTIONS[name] ?? {};
  const out: JsonObject = descriptions[''] ? { description: descriptions[''], ...schema } : { ...schema };
  for (const [property, description] of Object.entries(descriptions)) {
    if (property === '') continue;
    const properties = out.properties as Record<string, JsonObject> | undefined;
    if (!properties?.[property]) throw new Error(`no property ${property} in ${name} to describe`);
    properties[property] = { ...properties[property], description };
  }
  return out;
}

function componentSchemas(): JsonObject {
  const schemas: JsonObject = {};
  for (const names of [REQUEST_PARTS, RESPONSE_PARTS]) {
    for (const [schema, name] of names) schemas[name] = described(name, convert(schema, names, schema));
  }
  // The envelope's items are the add schema: each is judged as one add would be.
  schemas.BulkAddCustomersRequest = described('BulkAddCustomersRequest', {
    ...convert(bulkAddCustomersSchema, REQUEST_PARTS),
    items: schemaRef('AddCustomerRequest'),
  });
  schemas.OpenApiDocument = {
    type: 'object',
    description: 'This document.',
    additionalProperties: true,
    required: ['openapi', 'info', 'paths'],
    properties: {
      openapi: { const: '3.1.0' },
      info: { type: 'object', additionalProperties: true },
      paths: { type: 'object', additionalProperties: true },
    },
  };
  return schemas;
}

// ---------------------------------------------------------------------------------------------
// Codes: what each means, by name, and which status it answers with.

const MEANINGS: Record<Code, string> = {
  [Code.badRequest]:
    'malformed JSON, a body of the wrong shape, a schema violation with no more specific code, an identifier of unknown type or without value, an Idempotency-Key of the wrong length, text that is not well-formed Unicode, an integer beyond 2^53 − 1 where a string is expected',
  [Code.unauthorized]: 'missing or wrong credentials',
  [Code.forbidden]: 'the till may not erase customers (the org allows erasing to the tills it names); answered whatever the id',
  [Code.notFound]: 'not found',
  [Code.tooLarge]: `body larger than ${MAX_BODY_BYTES / 1024} KiB (a bulk envelope: ${MAX_BULK_BODY_BYTES / 1024 / 1024} MiB)`,
  [Code.unsupportedMediaType]: 'content type is not JSON',
  [Code.idempotencyKeyReused]: 'Idempotency-Key reused with a different request',
  [Code.rateLimited]: "the org's per-minute limit on registrations is reached",
  [Code.internal]: 'an unexpected failure; no details are given (it is logged)',
  [Code.unavailable]:
    "the customer table stayed throttled, unreachable or slow past the request's deadline; nothing was written unless the message says the outcome is unknown; retry after Retry-After",
  [Code.lookupWithoutSource]: 'lookup without source',
  [Code.lookupWithoutIdentifier]: 'lookup without identifierName or identifierValue, or with an unknown identifierName',
  [Code.invalidSource]: 'invalid source, or a source not enabled for the org',
  [Code.profileWithoutSource]: 'profile without source (neither in the profile nor as `?source=`)',
  [Code.profileWithoutIdentifier]: 'profile without any valid identifier',
  [Code.existsInSource]: 'the customer already has a profile in the source (and account); nothing written',
  [Code.invalidCommChannel]: 'invalid comm channel (unknown type, missing value, `meta.lastViewedDate` off mobilePush)',
  [Code.invalidMobile]: 'invalid mobile (or a placeholder mobile the org refuses)',
  [Code.customerNotFound]: "customer not found (another org's customer is not found either)",
  [Code.createDateOutOfRange]: "createDate in the future or before the org's earliest registration date",
  [Code.cannotLeaveLoyalty]: 'update: a loyalty customer cannot become non_loyalty',
  [Code.accountIdMissing]: 'accountId missing for a multi-account source',
  [Code.identifiersOfDifferentCustomers]: 'the identifiers belong to different customers; nothing written',
  [Code.identifierOfAnotherCustomer]: 'changeIdentifier: an identifier to add belongs to another customer; nothing written',
  [Code.invalidEmail]: 'invalid email (or a placeholder email the org refuses)',
  [Code.invalidCommChannelEmail]: 'invalid email in a comm channel',
  [Code.invalidCommChannelMobile]: 'invalid mobile in a comm channel',
  [Code.noProfileInSource]: 'lookup, update, changeIdentifier: the customer has no profile in the requested source (and account)',
  [Code.unknownAccountId]: 'accountId is not an account of the org for the source',
  [Code.invalidExtendedField]: 'extended field not enabled for the org, of the wrong type, not in its enum, or too long',
  [Code.cardNumberMisfit]: 'card number does not fit its series',
  [Code.cardSeriesUnknown]: 'card series does not exist',
  [Code.cardNumberIssued]: 'card number already issued',
  [Code.invalidCardStatus]: 'invalid card status label',
  [Code.severalCards]: 'more than one card in the request',
  [Code.unknownProgram]: 'unknown loyalty program',
  [Code.unknownTier]: 'unknown tier of the program',
  [Code.expiryNotAfterCreateDate]: 'tier or points expiry not after createDate',
  [Code.enrollmentOfNonLoyalty]: 'enrollment of a non_loyalty customer',
  [Code.tooManyProfiles]: "the customer would have more profiles than the org's maxProfilesPerCustomer (a code of this service's own)",
  [Code.mergeInOneSourceAccount]: "both customers of a merge have a profile in one source account (a code of this service's own)",
  [Code.notMergeable]:
    "a customer of a merge or unmerge is being erased, is itself a merged victim, or is in a stepped merge not finished yet; an erase of a merged victim (erase its survivor) (a code of this service's own)",
  [Code.tooLargeToMerge]:
    "what must be one transaction does not fit DynamoDB's 100 items: a stepped merge's first step (a victim of over 98 profiles), an unmerge's split (a profile with over 95 identifiers of its own) (a code of this service's own)",
  [Code.survivorReturned]: 'warning: the id is of a customer merged into another; the survivor is returned',
  [Code.merged]: 'warning: merged into the existing customer',
  [Code.unknownTill]: 'warning: unknown associatedWith; the authenticated till is used',
  [Code.ignored]:
    'warning: a part of the request was ignored (an unknown key, `activity`, customer-level details on a merge, `accountId` on a single-account source, a blocked placeholder identifier)',
};

const WARNINGS: readonly Code[] = [Code.merged, Code.unknownTill, Code.ignored, Code.survivorReturned];

function statusOfCode(code: ErrorCode): number {
  return ApiError.of(code, '').status;
}

const codeList = (codes: readonly Code[], meanings: Partial<Record<Code, string>> = {}) =>
  codes.map((code) => `- \`${code}\`: ${meanings[code] ?? MEANINGS[code]}`).join('\n');

/** Every code, in a table with its HTTP status, for the document's description. */
function codeTable(): string {
  const rows = (Object.values(Code) as Code[]).map((code) => {
    const status = WARNINGS.includes(code) ? 'warning' : String(statusOfCode(code as ErrorCode));
    return `| ${status} | ${code} | ${MEANINGS[code]} |`;
  });
  return ['| HTTP | code | meaning |', '|---|---|---|', ...rows].join('\n');
}

// ---------------------------------------------------------------------------------------------
// Headers and responses.

const integerHeader = (description: string, required: boolean, example: number): JsonObject => ({
  description,
  required,
  schema: { type: 'integer', minimum: 0 },
  example,
});

function rateHeaders(required: boolean): JsonObject {
  return {
    'X-RateLimit-Limit': integerHeader("The org's registrations per minute.", required, 100000),
    'X-RateLimit-Remaining': integerHeader(
      'Registrations left in the current minute (exact for reservations of one; an instance may hold a few more in reserve).',
      required,
      99999,
    ),
    'X-RateLimit-Reset': integerHeader('When the current minute ends, in seconds since the Unix epoch.', required, 1767225660),
  };
}

const retryAfter = (description: string, example: number): JsonObject => ({ 'Retry-After': integerHeader(description, true, example) });
const replayed: JsonObject = {
  'Idempotent-Replayed': {
    description:
      'Set to `true` when the response is the recorded response of an earlier request with the same Idempotency-Key; nothing was written.',
    required: false,
    schema: { type: 'string', enum: ['true'] },
    example: 'true',
  },
};

interface ErrorSpec {
  codes: readonly ErrorCode[];
  /** What a code means on this route, where it is narrower than its general meaning. */
  meanings?: Partial<Record<ErrorCode, string>>;
  headers?: JsonObject;
  description?: string;
  example?: Json;
}

/** An error response: the error body, with `code` narrowed to the codes of this status the route gives. */
function errorResponse(status: number, spec: ErrorSpec): JsonObject {
  for (const code of spec.codes) {
    if (statusOfCode(code) !== status) throw new Error(`code ${code} answers ${statusOfCode(code)}, not ${status}`);
  }
  const summary = spec.description ?? MEANINGS[spec.codes[0]];
  const description = `${summary[0].toUpperCase()}${summary.slice(1)}.${spec.codes.length > 1 ? `\n\n${codeList(spec.codes, spec.meanings)}` : ''}`;
  const media: JsonObject = { schema: errorBody(spec.codes) };
  if (spec.example !== undefined) media.example = spec.example;
  return { description, ...(spec.headers ? { headers: spec.headers } : {}), content: { 'application/json': media } };
}

/** The error body with `code` narrowed to `codes`, whole: no allOf, so every property is evaluated where it is declared. */
function errorBody(codes: readonly ErrorCode[]): JsonObject {
  const names = new Map(RESPONSE_PARTS);
  names.delete(problemSchema);
  const body = convert(errorBodySchema, names);
  const items = ((body.properties as JsonObject).errors as JsonObject).items as JsonObject;
  const code = (items.properties as JsonObject).code as JsonObject;
  code.enum = [...codes];
  delete items.description;
  return body;
}

const problem = (code: Code, message: string, path?: string): JsonObject =>
  path === undefined ? { status: false, code, message } : { status: false, code, message, path };
const errorExample = (...errors: JsonObject[]): JsonObject => ({ errors, warnings: [] });

const unauthorized = errorResponse(401, {
  codes: [Code.unauthorized],
  headers: {
    'WWW-Authenticate': {
      description: 'The Basic challenge.',
      required: true,
      schema: { type: 'string', enum: ['Basic realm="customers"'] },
      example: 'Basic realm="customers"',
    },
  },
  example: errorExample(problem(Code.unauthorized, 'missing or wrong credentials')),
});
const internal = errorResponse(500, {
  codes: [Code.internal],
  example: errorExample(problem(Code.internal, 'internal error')),
});
const unavailable = (rate: boolean) =>
  errorResponse(503, {
    codes: [Code.unavailable],
    headers: { ...retryAfter('Seconds to wait before retrying.', 1), ...(rate ? rateHeaders(false) : {}) },
    example: errorExample(problem(Code.unavailable, 'the customer table is unavailable; nothing was written; retry later')),
  });
const tooLarge = (bytes: number) =>
  errorResponse(413, {
    codes: [Code.tooLarge],
    description: `body larger than ${bytes} bytes`,
    example: errorExample(problem(Code.tooLarge, `body larger than ${bytes} bytes`)),
  });
const unsupportedMediaType = errorResponse(415, {
  codes: [Code.unsupportedMediaType],
  example: errorExample(problem(Code.unsupportedMediaType, 'content type must be application/json')),
});
const rateLimited = errorResponse(429, {
  codes: [Code.rateLimited],
  headers: { ...retryAfter('Seconds until the next minute starts.', 42), ...rateHeaders(true) },
  example: errorExample(problem(Code.rateLimited, 'rate limit of 10 requests per minute reached; retry after 42 s')),
});
const keyReused = (rate: boolean) =>
  errorResponse(422, {
    codes: [Code.idempotencyKeyReused],
    ...(rate ? { headers: rateHeaders(true) } : {}),
    example: errorExample(
      problem(Code.idempotencyKeyReused, 'Idempotency-Key was used with a different request', '/headers/Idempotency-Key'),
    ),
  });

const json = (schema: JsonObject, extra: JsonObject = {}): JsonObject => ({ 'application/json': { schema, ...extra } });

const REGISTRATION_400: readonly ErrorCode[] = [
  Code.badRequest,
  Code.invalidSource,
  Code.profileWithoutSource,
  Code.profileWithoutIdentifier,
  Code.invalidMobile,
  Code.invalidEmail,
  Code.invalidCommChannelEmail,
  Code.invalidCommChannelMobile,
  Code.invalidCommChannel,
  Code.createDateOutOfRange,
  Code.accountIdMissing,
  Code.unknownAccountId,
  Code.invalidExtendedField,
  Code.cardNumberMisfit,
  Code.cardSeriesUnknown,
  Code.invalidCardStatus,
  Code.severalCards,
  Code.unknownProgram,
  Code.unknownTier,
  Code.expiryNotAfterCreateDate,
  Code.enrollmentOfNonLoyalty,
];
const REGISTRATION_409: readonly ErrorCode[] = [
  Code.existsInSource,
  Code.identifiersOfDifferentCustomers,
  Code.cardNumberIssued,
  Code.tooManyProfiles,
];

// ---------------------------------------------------------------------------------------------
// Parameters.

const sourceQuery = (what: string): JsonObject => ({
  name: 'source',
  in: 'query',
  required: false,
  description: `The source of ${what} that name none. Checked whether or not one needs it: outside the enum, 400 / 8003.`,
  schema: { type: 'string', enum: [...SOURCES] },
  example: 'INSTORE',
});
const accountIdQuery = (what: string): JsonObject => ({
  name: 'accountId',
  in: 'query',
  required: false,
  description: `The account of ${what} that name none (multi-account sources). Checked whether or not one needs it: over 100 characters, 400.`,
  schema: { type: 'string', maxLength: 100 },
  example: 'wx-main',
});
const idempotencyKey = (what: string): JsonObject => ({
  name: 'Idempotency-Key',
  in: 'header',
  required: false,
  description: what,
  schema: { type: 'string', minLength: 1, maxLength: 128 },
  example: 'pos-7-2025-01-15-000123',
});

// ---------------------------------------------------------------------------------------------
// The operations.

interface OperationSpec {
  method: 'get' | 'post' | 'put' | 'delete';
  path: string;
  operation: JsonObject;
  /** Whether the route takes a JSON body (its examples then come from the events' bodies). */
  body?: boolean;
}

/** Where a registration's `createdId` leads: every operation on that customer (OpenAPI links, so tools can follow its life). */
const CUSTOMER_LINKS: JsonObject = Object.fromEntries(
  (
    [
      ['getCustomer', 'Read the customer.'],
      ['updateCustomer', 'Change its names, fields, channels or extended fields.'],
      ['changeIdentifier', 'Add or remove identifier values.'],
      ['customerHistory', 'Read its history.'],
      ['mergeCustomers', 'Merge another customer into it.'],
      ['unmergeCustomer', 'Split a profile out of it.'],
      ['exportCustomer', 'Export everything held about it.'],
      ['eraseCustomer', 'Erase it.'],
    ] as const
  ).map(([operationId, description]) => [operationId, { operationId, description, parameters: { id: '$response.body#/createdId' } }]),
);

/** The customer the examples show. */
const CUSTOMER_EXAMPLE = {
  id: 4810934829312737,
  loyaltyInfo: { loyaltyType: 'loyalty' },
  profiles: [
    {
      firstName: 'Asha',
      lastName: 'Rao',
      source: 'INSTORE',
      accountId: null,
      identifiers: [
        { type: 'mobile', value: '919845011223' },
        { type: 'email', value: 'asha.rao@example.com' },
      ],
      commChannels: [],
      fields: {},
      attribution: { createDate: '2025-01-15T05:00:00.000Z', createdBy: { code: 'demo.till', type: 'TILL' } },
    },
  ],
  extendedFields: { city: 'Pune' },
  cardDetails: [],
  loyaltyProgramDetails: [
    {
      programId: 1,
      programName: 'Demo Rewards',
      tierNumber: 1,
      tierName: 'Silver',
      loyaltyPoints: 0,
      tierExpiryDate: null,
      pointsExpiryDate: null,
    },
  ],
  associatedWith: 'demo.till',
  endPointsEnabled: [],
  activity: 'ACTIVE',
  warnings: [],
};

const customerIdParameter: JsonObject = {
  name: 'id',
  in: 'path',
  required: true,
  description: 'The customer id (`createdId` of the registration); anything else is 404 / 8015.',
  schema: { type: 'integer', minimum: 1, maximum: Number.MAX_SAFE_INTEGER },
  example: 4810934829312737,
};
const profileSourceQuery: JsonObject = {
  name: 'source',
  in: 'query',
  required: false,
  description: "The source of the profile to change (404 / 8065 when the customer has none there); default the customer's first profile.",
  schema: { type: 'string', enum: [...SOURCES] },
  example: 'INSTORE',
};
const profileAccountQuery: JsonObject = {
  name: 'accountId',
  in: 'query',
  required: false,
  description: 'With a multi-account source: the account of the profile to change.',
  schema: { type: 'string', maxLength: 100 },
  example: 'wx-main',
};
const customerOr8065 = errorResponse(404, {
  codes: [Code.customerNotFound, Code.noProfileInSource],
  description: "the customer is missing, erased or another org's, or has no profile in the source named",
  example: errorExample(problem(Code.customerNotFound, 'customer not found', '/id')),
});
const CHANGE_400: readonly ErrorCode[] = [
  Code.badRequest,
  Code.invalidSource,
  Code.invalidCommChannel,
  Code.invalidCommChannelEmail,
  Code.invalidCommChannelMobile,
  Code.invalidExtendedField,
  Code.cannotLeaveLoyalty,
];
const CHANGE_IDENTIFIER_400: readonly ErrorCode[] = [
  Code.badRequest,
  Code.invalidSource,
  Code.profileWithoutIdentifier,
  Code.invalidMobile,
  Code.invalidEmail,
  Code.cardNumberMisfit,
  Code.cardSeriesUnknown,
  Code.invalidCardStatus,
  Code.severalCards,
  // A card's own extended fields, judged as on registration.
  Code.invalidExtendedField,
];

/** The answers every write route with a JSON body shares after its own: body, key, limit and table faults. */
function bodyWriteFailures(): JsonObject {
  return {
    413: tooLarge(MAX_BODY_BYTES),
    415: unsupportedMediaType,
    422: keyReused(true),
    429: rateLimited,
    500: internal,
    503: unavailable(true),
  };
}

/** PUT /v2/customers/{id} and POST .../changeIdentifier: the same parameters and answers but their body, 400 and 409. */
function changeOperation(spec: {
  method: 'put' | 'post';
  path: string;
  operationId: string;
  summary: string;
  description: string;
  request: string;
  success: string;
  invalid: JsonObject;
  conflict?: JsonObject;
}): OperationSpec {
  return {
    method: spec.method,
    path: spec.path,
    body: true,
    operation: {
      operationId: spec.operationId,
      tags: ['customers'],
      summary: spec.summary,
      description: spec.description,
      parameters: [
        customerIdParameter,
        profileSourceQuery,
        profileAccountQuery,
        idempotencyKey('Makes the request idempotent for 24 hours, per org; bound to the customer id, the query and the body as sent.'),
      ],
      requestBody: { required: true, content: json(schemaRef(spec.request)) },
      responses: {
        200: {
          description: spec.success,
          headers: { ...rateHeaders(true), ...replayed },
          content: json(schemaRef('ChangeCustomerResponse'), { example: { createdId: 4810934829312737, warnings: [], sideEffects: [] } }),
        },
        400: spec.invalid,
        401: unauthorized,
        404: customerOr8065,
        ...(spec.conflict ? { 409: spec.conflict } : {}),
        ...bodyWriteFailures(),
      },
    },
  };
}

function operations(): OperationSpec[] {
  const createdExample = { createdId: 4810934829312737, warnings: [], sideEffects: [] };
  return [
    {
      method: 'post',
      path: '/v2/customers',
      body: true,
      operation: {
        operationId: 'addCustomer',
        tags: ['customers'],
        summary: 'Register a customer',
        description: [
          "Capillary's v2 Add Customer. No identifier known: a new customer with everything in the request. Known identifiers all of one",
          'customer with no profile in the source (and account): the profile is added to that customer (warning 8050; customer-level parts',
          'are not applied, each named in a warning 8200). That customer already in the source: 409 / 8006. Identifiers of two or more',
          "customers: 409 / 8052. All or nothing: a refused request writes nothing.\n\nThe request is counted against the org's per-minute",
          'limit once it has passed validation; every answer from then on carries `X-RateLimit-*`. With `Idempotency-Key` a repeat within',
          '24 hours replays the first answer (200 or 409) with `Idempotent-Replayed: true`; the same key with another request is 422.',
        ].join(' '),
        parameters: [
          sourceQuery('profiles'),
          accountIdQuery('profiles'),
          idempotencyKey(
            'Makes the request idempotent for 24 hours, per org; bound to the body as sent and the `source` / `accountId` query. A request refused by validation (400) records nothing, so its key stays free for a corrected retry.',
          ),
        ],
        requestBody: { required: true, content: json(schemaRef('AddCustomerRequest')) },
        responses: {
          200: {
            description: 'Registered: a new customer, or a merge into an existing one (warning 8050).',
            headers: { ...rateHeaders(true), ...replayed },
            links: CUSTOMER_LINKS,
            content: json(schemaRef('AddCustomerResponse'), {
              examples: {
                created: { summary: 'A new customer', value: createdExample },
                merged: {
                  summary: 'Merged into the customer the identifiers belong to',
                  value: {
                    createdId: 4810934829312737,
                    warnings: [{ status: false, code: Code.merged, message: 'merged into existing customer 4810934829312737' }],
                    sideEffects: [],
                  },
                },
                card: {
                  summary: 'A card drawn by its series and points credited at enrollment',
                  value: {
                    createdId: 6122385811,
                    warnings: [],
                    sideEffects: [
                      { type: 'card', cardNumber: 'DEMO123456789015', seriesId: 501, seriesCode: 'DEMO-GEN', statusLabel: 'ACTIVE' },
                      { type: 'points', entityType: 'USER', programId: 1, awardedPoints: 500 },
                    ],
                  },
                },
              },
            }),
          },
          400: errorResponse(400, {
            codes: REGISTRATION_400,
            description: 'the request is invalid: every problem found, each with its path',
            example: errorExample(
              problem(Code.accountIdMissing, 'accountId is required for source FACEBOOK', '/profiles/0/accountId'),
              problem(Code.invalidMobile, 'invalid mobile: not a valid mobile number', '/profiles/0/identifiers/0/value'),
              problem(Code.invalidEmail, 'invalid email: not a valid email address', '/profiles/0/identifiers/1/value'),
            ),
          }),
          401: unauthorized,
          409: errorResponse(409, {
            codes: REGISTRATION_409,
            description: 'refused by the identity rules; nothing written (with an Idempotency-Key, the refusal is recorded and replays)',
            headers: { ...rateHeaders(true), ...replayed },
            example: errorExample(problem(Code.existsInSource, 'customer 4810934829312737 already exists in INSTORE', '/profiles/0')),
          }),
          ...bodyWriteFailures(),
        },
      },
    },
    {
      method: 'post',
      path: '/v2/customers/bulk',
      body: true,
      operation: {
        operationId: 'bulkAddCustomers',
        tags: ['customers'],
        summary: 'Register up to 100 customers',
        description: [
          `Capillary's bulk add: 1 to ${MAX_BULK_ITEMS} add-customer bodies, each judged and applied as if sent alone through POST /v2/customers,`,
          'answered with one result per item in input order. Items that share a normalised identifier apply in input order (a later one',
          "becomes a merge, 8006 or 8052 as sequential adds would). The valid items are counted against the org's per-minute limit",
          'together: when they do not all fit, the whole request is 429 and nothing is written. With `Idempotency-Key` every item has',
          'its own record: a retry replays the finished items and runs only the rest. Items not started when the request nears its',
          'deadline answer 503 ("not attempted"): retry exactly those.',
        ].join(' '),
        parameters: [
          sourceQuery('items'),
          accountIdQuery('items'),
          idempotencyKey(
            "Makes every item idempotent for 24 hours, per org, in a namespace apart from single adds' keys, bound to the whole envelope and the query.",
          ),
        ],
        requestBody: { required: true, content: json(schemaRef('BulkAddCustomersRequest')) },
        responses: {
          200: {
            description: 'One result per item, in input order.',
            headers: {
              'X-Bulk-Total': integerHeader('The number of items.', true, 3),
              'X-Bulk-Failed': integerHeader('The number of items whose status is not 200.', true, 1),
              ...rateHeaders(false),
              ...{
                'Idempotent-Replayed': {
                  ...(replayed['Idempotent-Replayed'] as JsonObject),
                  description: 'Set to `true` when every item was replayed from an earlier request with the same Idempotency-Key.',
                },
              },
            },
            content: json(schemaRef('BulkAddCustomersResponse'), {
              example: [
                { entity: { id: 4810934829312737 }, status: 200, errors: [], warnings: [], sideEffects: [] },
                {
                  entity: { id: 4810934829312737 },
                  status: 200,
                  errors: [],
                  warnings: [{ status: false, code: Code.merged, message: 'merged into existing customer 4810934829312737' }],
                  sideEffects: [],
                },
                {
                  entity: null,
                  status: 400,
                  errors: [problem(Code.invalidMobile, 'invalid mobile: not a valid mobile number', '/profiles/0/identifiers/0/value')],
                  warnings: [],
                  sideEffects: [],
                },
              ],
            }),
          },
          400: errorResponse(400, {
            codes: [Code.badRequest, Code.invalidSource],
            description: `the envelope is not an array of 1 to ${MAX_BULK_ITEMS} items (or malformed JSON, a bad Idempotency-Key, a \`source\` outside the enum, an \`accountId\` over 100 characters); nothing written`,
            example: errorExample(problem(Code.badRequest, 'invalid request: / must NOT have more than 100 items', '')),
          }),
          401: unauthorized,
          413: tooLarge(MAX_BULK_BODY_BYTES),
          415: unsupportedMediaType,
          422: keyReused(false),
          429: errorResponse(429, {
            codes: [Code.rateLimited],
            description: "the valid items do not all fit the org's minute; nothing written, the minute left as it was",
            headers: { ...retryAfter('Seconds until the next minute starts.', 42), ...rateHeaders(true) },
            example: errorExample(
              problem(Code.rateLimited, '3 requests do not fit the 2 left of the 10 requests per minute; retry after 42 s'),
            ),
          }),
          500: internal,
          503: unavailable(true),
        },
      },
    },
    {
      method: 'get',
      path: '/v2/customers/lookup',
      operation: {
        operationId: 'lookupCustomer',
        tags: ['customers'],
        summary: 'Find the customer who owns an identifier',
        description:
          'The value is normalised as on registration. `source=ALL` searches every source; with a source, the customer must have a profile in it (and in the account, when given), else 404 / 8065. A blocked placeholder value is 404 / 8015 without reading the table.',
        parameters: [
          {
            name: 'source',
            in: 'query',
            required: true,
            description: 'A source, or `ALL` for every source (8001 when missing).',
            schema: { type: 'string', enum: ['ALL', ...SOURCES] },
          },
          {
            name: 'accountId',
            in: 'query',
            required: false,
            description: 'With a multi-account source: the account the profile must be in.',
            schema: { type: 'string' },
            example: 'wx-main',
          },
          {
            name: 'identifierName',
            in: 'query',
            required: true,
            description: 'The identifier type (8002 when missing or unknown); `card` and `cardnumber` both name card numbers.',
            schema: { type: 'string', enum: [...IDENTIFIER_TYPES, 'cardnumber'] },
          },
          {
            name: 'identifierValue',
            in: 'query',
            required: true,
            description: 'The identifier value, normalised as on registration (8002 when missing).',
            schema: { type: 'string', minLength: 1, maxLength: MAX_IDENTIFIER_LENGTH },
          },
        ],
        responses: {
          200: {
            description: 'The id of the customer who owns the identifier.',
            content: json(schemaRef('LookupResponse'), { example: { entity: 4810934829312737, warnings: [] } }),
          },
          400: errorResponse(400, {
            codes: [
              Code.lookupWithoutSource,
              Code.lookupWithoutIdentifier,
              Code.invalidSource,
              Code.invalidMobile,
              Code.invalidEmail,
              Code.badRequest,
            ],
            description: 'the query is incomplete or the value invalid',
            meanings: {
              [Code.badRequest]: `an identifierValue longer than ${MAX_IDENTIFIER_LENGTH} characters, or invalid for its type (other than mobile and email)`,
            },
            example: errorExample(problem(Code.lookupWithoutSource, 'source is required', '/source')),
          }),
          401: unauthorized,
          404: errorResponse(404, {
            codes: [Code.customerNotFound, Code.noProfileInSource],
            description: 'no customer owns the identifier, or the customer has no profile in the source',
            example: errorExample(problem(Code.customerNotFound, 'customer not found')),
          }),
          500: internal,
          503: unavailable(false),
        },
      },
    },
    {
      method: 'get',
      path: '/v2/customers/{id}',
      operation: {
        operationId: 'getCustomer',
        tags: ['customers'],
        summary: 'Read a customer',
        description:
          "The customer with every profile (identifiers as normalised, names as sent), extended fields, card and loyalty program details. Another org's customer is answered exactly like a missing one.",
        parameters: [
          {
            name: 'id',
            in: 'path',
            required: true,
            description: 'The customer id (`createdId` of the registration); anything else is 404 / 8015.',
            schema: { type: 'integer', minimum: 1, maximum: Number.MAX_SAFE_INTEGER },
          },
        ],
        responses: {
          200: {
            description: 'The customer.',
            content: json(schemaRef('CustomerDocument'), {
              example: CUSTOMER_EXAMPLE,
            }),
          },
          401: unauthorized,
          404: errorResponse(404, {
            codes: [Code.customerNotFound],
            example: errorExample(problem(Code.customerNotFound, 'customer not found', '/id')),
          }),
          500: internal,
          503: unavailable(false),
        },
      },
    },
    changeOperation({
      method: 'put',
      path: '/v2/customers/{id}',
      operationId: 'updateCustomer',
      summary: 'Change a customer',
      description: [
        "Changes names, custom fields and comm channels of one profile, the customer's extended fields, or makes a `non_loyalty`",
        'customer `loyalty`. One transaction, conditioned on the version of the customer read and applied again to a fresh read when',
        'a concurrent write got there first, so concurrent changes never lose each other. The changed profile shows',
        "`attribution.modifiedDate` and `modifiedBy` afterwards. Counted against the org's per-minute limit; `Idempotency-Key` as on",
        'registration.',
      ].join(' '),
      request: 'UpdateCustomerRequest',
      success: 'Changed.',
      invalid: errorResponse(400, {
        codes: CHANGE_400,
        description: 'the request is invalid: every problem found, each with its path',
        example: errorExample(
          problem(
            Code.badRequest,
            'identifiers cannot be changed by an update: identifiers are changed through POST /v2/customers/{id}/changeIdentifier',
            '/profiles/0/identifiers',
          ),
        ),
      }),
    }),
    {
      method: 'delete',
      path: '/v2/customers/{id}',
      operation: {
        operationId: 'eraseCustomer',
        tags: ['customers'],
        summary: 'Erase a customer',
        description: [
          'For tills the org allows to erase (others 403, whatever the id). Deletes the identifier items that still belong to the',
          'customer (the values are free: the same mobile registers as a new customer), its profiles and personal data, and leaves a',
          'tombstone with the id, the time and the enrollments with their points. Afterwards GET and lookup answer 404 / 8015. A',
          'customer too large for one transaction is marked ERASING first (nothing merges into it meanwhile; a registration through',
          'one of its values is 503 until the erase ends) and erased in steps; a DELETE sent again finishes an interrupted one.',
          "Idempotent: an erased customer answers 200 again. Counted against the org's per-minute limit.",
        ].join(' '),
        parameters: [customerIdParameter, idempotencyKey('Makes the request idempotent for 24 hours, per org; bound to the customer id.')],
        responses: {
          200: {
            description: 'Erased (now or before).',
            headers: { ...rateHeaders(true), ...replayed },
            content: json(schemaRef('EraseCustomerResponse'), {
              example: { entity: { id: 4810934829312737, status: 'ERASED' }, warnings: [] },
            }),
          },
          400: errorResponse(400, {
            codes: [Code.badRequest],
            description: 'an Idempotency-Key of the wrong length',
            example: errorExample(problem(Code.badRequest, 'Idempotency-Key must be 1 to 128 characters', '/headers/Idempotency-Key')),
          }),
          401: unauthorized,
          403: errorResponse(403, {
            codes: [Code.forbidden],
            example: errorExample(problem(Code.forbidden, 'till store2.till may not erase customers')),
          }),
          404: errorResponse(404, {
            codes: [Code.customerNotFound],
            example: errorExample(problem(Code.customerNotFound, 'customer not found', '/id')),
          }),
          409: errorResponse(409, {
            codes: [Code.notMergeable],
            description: 'the id is of a customer merged into another (SPEC section 15): erase its survivor, which erases it too',
            headers: { ...rateHeaders(true), ...replayed },
            example: errorExample(
              problem(Code.notMergeable, 'customer 5723019384756123 was merged into customer 4810934829312737: erase that one', '/id'),
            ),
          }),
          422: keyReused(true),
          429: rateLimited,
          500: internal,
          503: unavailable(true),
        },
      },
    },
    {
      method: 'get',
      path: '/v2/customers/{id}/export',
      operation: {
        operationId: 'exportCustomer',
        tags: ['customers'],
        summary: "Export a customer's data",
        description: [
          "A data subject's access request (GDPR articles 15 and 20): everything the service holds about the customer, as one",
          'document read at one version of it: the document GET returns, every profile with its identifiers and fields, the',
          'enrollments, the history, the keys of the idempotency records still held for its requests, and when it was generated.',
          "For tills the org allows to export (`mayExport`; others 403, whatever the id). Counted against the org's per-minute limit.",
        ].join(' '),
        parameters: [customerIdParameter],
        responses: {
          200: {
            description: 'Everything held about the customer.',
            headers: rateHeaders(true),
            content: json(schemaRef('ExportCustomerResponse'), {
              example: {
                customer: CUSTOMER_EXAMPLE,
                profiles: CUSTOMER_EXAMPLE.profiles,
                enrollments: [{ programId: 1, tierNumber: 1, loyaltyPoints: 0 }],
                history: [],
                idempotencyKeys: ['till-7-20250115-0001'],
                generatedAt: '2025-02-01T09:30:00.000Z',
              },
            }),
          },
          401: unauthorized,
          403: errorResponse(403, {
            codes: [Code.forbidden],
            example: errorExample(problem(Code.forbidden, 'till store2.till may not export customers')),
          }),
          404: errorResponse(404, {
            codes: [Code.customerNotFound],
            description: 'no such customer in the org, or one erased',
            example: errorExample(problem(Code.customerNotFound, 'customer not found', '/id')),
          }),
          429: rateLimited,
          500: internal,
          503: unavailable(true),
        },
      },
    },
    changeOperation({
      method: 'post',
      path: '/v2/customers/{id}/changeIdentifier',
      operationId: 'changeIdentifier',
      summary: "Change a customer's identifiers",
      description: [
        'Adds identifiers to one profile, removes them, or both (a replacement), in one transaction with conditions on every value:',
        'added values are claimed only while free (two customers claiming one value at once: exactly one wins, the other is 409 /',
        '8053), removed values are deleted only while they still belong to this customer, and the customer is written at the',
        "version read. Counted against the org's per-minute limit; `Idempotency-Key` as on registration.",
      ].join(' '),
      request: 'ChangeIdentifierRequest',
      success: 'Changed; a linked card is a side effect.',
      invalid: errorResponse(400, {
        codes: CHANGE_IDENTIFIER_400,
        description: 'the request is invalid: every problem found, each with its path',
        meanings: {
          [Code.badRequest]:
            'a second value of a type the profile has, without removing the first; an unknown identifier type; nothing to change',
        },
        example: errorExample(
          problem(Code.badRequest, 'the profile has a mobile already: remove it in the same request to replace it', '/add/0'),
        ),
      }),
      conflict: errorResponse(409, {
        codes: [Code.identifierOfAnotherCustomer],
        description: 'an identifier to add belongs to another customer; nothing written (with an Idempotency-Key, recorded and replayed)',
        headers: { ...rateHeaders(true), ...replayed },
        example: errorExample(problem(Code.identifierOfAnotherCustomer, 'mobile belongs to another customer', '/add/0/value')),
      }),
    }),
    {
      method: 'get',
      path: '/v2/customers/{id}/history',
      operation: {
        operationId: 'customerHistory',
        tags: ['customers'],
        summary: "A customer's history",
        description: [
          'Every change to the customer, newest first, a page at a time: created (by which till and origin), merged (which',
          'profile came in and the identifiers that matched: the reason), updated (paths with old and new values), identifiers',
          "changed, merged with another customer, unmerged. Entries are written from the table's stream within seconds of the",
          "change. A merged victim's id answers its own journal; an erased customer has none (404 / 8015). Counted against the",
          "org's per-minute limit.",
        ].join(' '),
        parameters: [
          customerIdParameter,
          {
            name: 'limit',
            in: 'query',
            required: false,
            description: 'Entries per page, 1 to 100 (default 20); anything else is 400.',
            schema: { type: 'integer', minimum: 1, maximum: 100, default: 20 },
            example: 20,
          },
          {
            name: 'cursor',
            in: 'query',
            required: false,
            description: "The previous page's `next`; a cursor this service did not hand out is 400.",
            schema: { type: 'string', maxLength: 500, pattern: '^[A-Za-z0-9_-]+$' },
            example: 'RSMwMDAwMDAwMDAwMDIjQyMw',
          },
        ],
        responses: {
          200: {
            description: 'A page of the history.',
            headers: rateHeaders(true),
            content: json(schemaRef('HistoryPage'), {
              example: {
                entries: [
                  {
                    at: '2025-01-20T10:00:00.000Z',
                    type: 'merged',
                    sequence: 2,
                    by: { till: 'demo.till', origin: 'api' },
                    requestId: 'c0a8012e-7d2f-4b8e-9a77-000000000002',
                    details: {
                      profile: { source: 'WECHAT', accountId: 'wx-main' },
                      matchedBy: [{ type: 'mobile', value: '919845011223' }],
                    },
                  },
                ],
                next: null,
              },
            }),
          },
          400: errorResponse(400, {
            codes: [Code.badRequest],
            description: 'a limit outside 1 to 100, or a cursor this service did not hand out',
            example: errorExample(problem(Code.badRequest, 'limit must be an integer from 1 to 100', '/limit')),
          }),
          401: unauthorized,
          404: errorResponse(404, {
            codes: [Code.customerNotFound],
            description: 'no such customer in the org, or one erased',
            example: errorExample(problem(Code.customerNotFound, 'customer not found', '/id')),
          }),
          429: rateLimited,
          500: internal,
          503: unavailable(true),
        },
      },
    },
    {
      method: 'post',
      path: '/v2/customers/{id}/merge',
      body: true,
      operation: {
        operationId: 'mergeCustomers',
        tags: ['customers'],
        summary: 'Merge another customer into this one',
        description: [
          'For tills the org allows to merge (`mayMerge`; others 403, whatever the id). Moves every profile and identifier of the',
          'victim into the survivor (the `{id}` of the path) in one transaction conditioned on both customers as read, and leaves',
          "the victim as a tombstone naming its survivor; the victim's extended fields and enrollments stay on the tombstone and",
          'come back with an unmerge. A merge too large for one transaction (over 100 items) goes in steps: the victim is marked',
          'MERGING first (its id answers the survivor from then on) and the survivor takes its profiles at once; a merge cut short',
          'between its steps is finished by whichever request meets it next (the same merge, a registration through its values, a',
          'change, an erase, a merge or an unmerge of either), which then does its own work. Afterwards GET of the',
          'victim answers the survivor with warning 91009, a lookup of a value that moved answers the survivor, and the id is never',
          'reused. `?preview=true` answers the document the survivor would be and',
          "writes nothing. Counted against the org's per-minute limit; `Idempotency-Key` as on registration. Event `customer.merged`",
          'with `data.victimId`.',
        ].join(' '),
        parameters: [
          customerIdParameter,
          {
            name: 'preview',
            in: 'query',
            required: false,
            description: '`true`: answer the merged document without writing; `false` or absent: merge.',
            schema: { type: 'string', enum: ['true', 'false'] },
            example: 'true',
          },
          idempotencyKey('Makes the request idempotent for 24 hours, per org; bound to the survivor id and the body.'),
        ],
        requestBody: { required: true, content: json(schemaRef('MergeCustomersRequest')) },
        responses: {
          200: {
            description: 'Merged (or, with `preview`, the document it would be): the survivor as GET returns it.',
            headers: { ...rateHeaders(true), ...replayed },
            content: json(schemaRef('CustomerDocument'), { example: CUSTOMER_EXAMPLE }),
          },
          400: errorResponse(400, {
            codes: [Code.badRequest],
            description: 'the victim is the survivor, a body of the wrong shape, a preview other than true or false',
            example: errorExample(problem(Code.badRequest, 'the victim is the survivor', '/victimId')),
          }),
          401: unauthorized,
          403: errorResponse(403, {
            codes: [Code.forbidden],
            example: errorExample(problem(Code.forbidden, 'till store2.till may not merge or unmerge customers')),
          }),
          404: errorResponse(404, {
            codes: [Code.customerNotFound],
            description: 'no such survivor or victim in the org, or one erased',
            example: errorExample(problem(Code.customerNotFound, 'customer not found', '/victimId')),
          }),
          409: errorResponse(409, {
            codes: [Code.mergeInOneSourceAccount, Code.tooManyProfiles, Code.notMergeable, Code.tooLargeToMerge],
            description: 'the merge is refused; nothing written (with an Idempotency-Key, recorded and replayed)',
            headers: { ...rateHeaders(true), ...replayed },
            example: errorExample(problem(Code.mergeInOneSourceAccount, 'both customers have a profile in INSTORE', '/victimId')),
          }),
          413: tooLarge(MAX_BODY_BYTES),
          415: unsupportedMediaType,
          422: keyReused(true),
          429: rateLimited,
          500: internal,
          503: unavailable(true),
        },
      },
    },
    {
      method: 'post',
      path: '/v2/customers/{id}/unmerge',
      body: true,
      operation: {
        operationId: 'unmergeCustomer',
        tags: ['customers'],
        summary: 'Split a profile out of a customer',
        description: [
          'For tills the org allows to merge (`mayMerge`; others 403, whatever the id). Splits the profile in `source` (and',
          '`accountId`) out of the customer: back into the victim it came from when an explicit merge brought it, else into a new',
          'customer. It takes the identifiers only that profile lists; one another remaining profile lists too (the value an',
          "automatic merge matched on) stays, and the answer names it in `kept`. The customer's last profile, or a profile with no",
          'identifier of its own, stays (400 / 8005). One transaction conditioned on every customer as read. Counted against the',
          "org's per-minute limit; `Idempotency-Key` as on registration. Event `customer.unmerged` on both customers.",
        ].join(' '),
        parameters: [
          customerIdParameter,
          idempotencyKey('Makes the request idempotent for 24 hours, per org; bound to the customer id and the body.'),
        ],
        requestBody: { required: true, content: json(schemaRef('UnmergeCustomerRequest')) },
        responses: {
          200: {
            description: 'Split out: the customer it went to, the identifiers that moved and those that stayed.',
            headers: { ...rateHeaders(true), ...replayed },
            content: json(schemaRef('UnmergeResponse'), {
              example: {
                entity: { id: 5723019384756123 },
                kept: [{ type: 'mobile', value: '919845011223' }],
                moved: [{ type: 'wechat', value: 'wx-o-8812' }],
                warnings: [],
              },
            }),
          },
          400: errorResponse(400, {
            codes: [Code.badRequest, Code.invalidSource, Code.profileWithoutIdentifier],
            description: 'the profile cannot be split out, or the body is invalid',
            meanings: { [Code.profileWithoutIdentifier]: "the customer's last profile, or a profile with no identifier of its own" },
            example: errorExample(problem(Code.profileWithoutIdentifier, "the customer's last profile cannot be split out")),
          }),
          401: unauthorized,
          403: errorResponse(403, {
            codes: [Code.forbidden],
            example: errorExample(problem(Code.forbidden, 'till store2.till may not merge or unmerge customers')),
          }),
          404: errorResponse(404, {
            codes: [Code.customerNotFound, Code.noProfileInSource],
            description: 'no such customer in the org (or one erased), or no profile in that source account',
            example: errorExample(problem(Code.noProfileInSource, 'customer has no profile in WECHAT account wx-main', '/source')),
          }),
          409: errorResponse(409, {
            codes: [Code.notMergeable, Code.tooLargeToMerge],
            description: 'the unmerge is refused; nothing written (with an Idempotency-Key, recorded and replayed)',
            headers: { ...rateHeaders(true), ...replayed },
            example: errorExample(problem(Code.notMergeable, 'the customer 4810934829312737 is being erased')),
          }),
          413: tooLarge(MAX_BODY_BYTES),
          415: unsupportedMediaType,
          422: keyReused(true),
          429: rateLimited,
          500: internal,
          503: unavailable(true),
        },
      },
    },
    {
      method: 'get',
      path: '/v2/extendedFields',
      operation: {
        operationId: 'getExtendedFields',
        tags: ['org'],
        summary: "List the org's customer extended fields",
        description: "The extended fields a registration of the caller's org may set, with their data types.",
        responses: {
          200: {
            description: "The org's customer extended fields.",
            content: json(schemaRef('ExtendedFieldsResponse'), {
              example: {
                entity: {
                  customer: [
                    { name: 'gender', label: 'Gender', dataType: 'STANDARD_ENUM', enumValues: ['Male', 'Female', 'Other'] },
                    { name: 'city', label: 'City', dataType: 'STRING', maxLength: 100 },
                  ],
                },
                warnings: [],
                errors: [],
                success: true,
              },
            }),
          },
          401: unauthorized,
          500: internal,
          503: unavailable(false),
        },
      },
    },
    {
      method: 'get',
      path: '/v2/openapi.json',
      operation: {
        operationId: 'getOpenApi',
        tags: ['documentation'],
        summary: 'This document',
        description: 'The OpenAPI document of the API. No credentials needed.',
        security: [],
        responses: {
          200: {
            description: 'The OpenAPI 3.1 document.',
            content: json(schemaRef('OpenApiDocument'), {
              example: { openapi: '3.1.0', info: { title: 'Loyalty customer registration', version: '0.2.0' }, paths: {} },
            }),
          },
          500: internal,
        },
      },
    },
  ];
}

// ---------------------------------------------------------------------------------------------
// Examples from the events.

/** What each example event shows; an event not named here is titled by its file name. */
const EXAMPLE_SUMMARIES: Record<string, string> = {
  'add-customer': 'A new customer in store: mobile, email and external id',
  'add-customer-merge': 'The same shopper in WeChat: merged into the customer (warning 8050)',
  'add-customer-invalid': 'Refused with every problem: 8045, 8014 and 8055',
  'card-issue': 'A card numbered by its series (DEMO-GEN)',
  'card-given-number': 'A card with a number of its own (series 502)',
  enrollment: 'Enrollment in two programs with a tier, points and expiry dates',
  'extended-fields': 'Extended fields of every data type',
  'full-request': 'Every part of a registration',
  'bulk-add-customers': 'Four items: new, merged, refused (8014), new',
  'update-customer': 'A new last name, a custom field removed, a new email channel and an extended field',
  'change-identifier': 'A new mobile in place of the old one',
  'merge-customers': 'Merge customer 2 into customer 1',
  'unmerge-customer': 'Split the WeChat profile out again',
};

/** The route an event is for, as `method path` of the document. */
const routeOf = (event: ApiEvent) => `${event.httpMethod.toLowerCase()} ${event.resource}`;

function withExamples(spec: OperationSpec, events: ApiEvent[]): JsonObject {
  const operation = structuredClone(spec.operation);
  const mine = events.filter((event) => routeOf(event) === `${spec.method} ${spec.path}`);
  if (spec.body) {
    const examples: JsonObject = {};
    // The examples the summaries name first, in their order: a client's first pick is the plain case.
    const order = (event: ApiEvent) => {
      const at = Object.keys(EXAMPLE_SUMMARIES).indexOf(event.name);
      return at === -1 ? Number.MAX_SAFE_INTEGER : at;
    };
    for (const event of [...mine].sort((a, b) => order(a) - order(b) || a.name.localeCompare(b.name))) {
      if (typeof event.body !== 'string') continue;
      examples[event.name] = {
        summary: EXAMPLE_SUMMARIES[event.name] ?? event.name,
        value: JSON.parse(event.body) as Json,
        // Invalid on purpose (its file name says so): tools that send examples as valid requests can skip it.
        ...(event.name.endsWith('-invalid')
          ? { 'x-invalid': true, description: 'Invalid on purpose: the answer is the 400 it shows.' }
          : {}),
      };
    }
    const media = ((operation.requestBody as JsonObject).content as JsonObject)['application/json'] as JsonObject;
    if (Object.keys(examples).length > 0) media.examples = examples;
  }
  for (const parameter of (operation.parameters ?? []) as JsonObject[]) {
    const name = parameter.name as string;
    const where = { query: 'queryStringParameters', path: 'pathParameters', header: 'headers' }[parameter.in as string] as keyof ApiEvent;
    const found = mine.map((event) => (event[where] as Record<string, string> | null | undefined)?.[name]).find((v) => v !== undefined);
    if (found === undefined) continue;
    parameter.example = (parameter.schema as JsonObject).type === 'integer' ? Number(found) : found;
  }
  return operation;
}

// ---------------------------------------------------------------------------------------------
// The document.

const DESCRIPTION = `
Loyalty customer registration: one customer record for every channel a brand sells through, compatible with Capillary's public
v2 Add Customer API. Each identifier (mobile, email, external id, card number, social ids) belongs to one customer of the org;
a shopper seen again in a new channel is merged into the customer they already are.

## Authentication

Every route but this document needs \`Authorization: Basic base64(<till username>:<md5 hex of the password>)\`, as Capillary
clients send it (the till belongs to one org, and every read and write is scoped to it). For the demo till \`demo.till\` with
password \`demo-password\`: \`Basic ZGVtby50aWxsOjRiNGQ5NTI5MTQ4ZDhkOTQ0MGQ3ZTIwYzc4Mjg3ZjY5\`.

## Errors

Errors come as \`{"errors": [{"status": false, "code": N, "message": "...", "path": "/profiles/0/identifiers/1"}], "warnings": [...]}\`
with every problem found, \`path\` a JSON pointer into the request where one applies. HTTP-level problems use the status as the
code. No client input produces a 500. Warnings (\`warnings\`, same shape) never make a request fail.

${codeTable()}

## Schema extensions

- \`x-error-code\`: the code a violation anywhere inside that part of a request schema is reported with (the innermost wins;
  400 where none is named).
- \`x-unknown-keys\`: on request schemas, a key the schema does not list is not refused: it is ignored, and the answer carries
  a warning 8200 naming its path (\`additionalProperties\` says \`true\` for that reason).
- \`x-coerce\`: tolerant input, as Capillary's backend is: a non-negative safe integer sent as a JSON number where a string is
  expected is read as its digits; a string of ASCII digits where an integer is expected is read as that integer. The schema
  keeps the canonical type.
`.trim();

export function openApiDocument(events: ApiEvent[], version: string): OpenApiDocument {
  const specs = operations();
  const known = new Set(specs.map((spec) => `${spec.method} ${spec.path}`));
  for (const event of events) {
    if (!known.has(routeOf(event)))
      throw new Error(`events/${event.name}.json is for ${routeOf(event)}, a route the document does not have`);
  }
  const paths: OpenApiDocument['paths'] = {};
  for (const spec of specs) (paths[spec.path] ??= {})[spec.method] = withExamples(spec, events);
  return {
    openapi: '3.1.0',
    info: {
      title: 'Loyalty customer registration',
      version,
      description: DESCRIPTION,
      license: { name: 'MIT', identifier: 'MIT' },
    },
    // Error answers keep Capillary's shape (status, code, message, path): the codes' explanations are linked from here, not from each answer.
    externalDocs: {
      description:
        'Every error and warning code with its meaning, one anchor per code (integrating.md#8006), beside this document in docs/',
      url: 'integrating.md#error-codes',
    },
    servers: [{ url: 'http://localhost:3000', description: '`npm start`: serverless offline with the demo orgs' }],
    security: [{ [SECURITY_SCHEME]: [] }],
    tags: [
      { name: 'customers', description: 'Registration and reads of customers.' },
      { name: 'org', description: "The caller's org configuration." },
      { name: 'documentation', description: 'This document.' },
    ],
    paths,
    components: {
      securitySchemes: {
        [SECURITY_SCHEME]: {
          type: 'http',
          scheme: 'basic',
          description:
            "Capillary's till credentials: `base64(<till username>:<md5 hex of the password>)`. The password part is the lower-case hex MD5 of the till's password, not the password. Missing or wrong credentials: 401.",
        },
      },
      schemas: componentSchemas(),
    },
  };
}
