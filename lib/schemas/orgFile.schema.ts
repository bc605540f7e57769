import { EVENT_TYPES } from '../events/event';
import { WEBHOOK_LIMITS } from '../org';
import { EXTENDED_FIELD_TYPES, SOURCES } from '../vocabulary';

// The org configuration file (SPEC sections 2, 7, 10 and 13), as `npm run load-orgs` reads it: one
// org or an array of orgs. This schema is the source of the check the loader runs first
// (compiled at build time with the request validators) and of config/orgs/org.schema.json,
// which editors use to complete and check a file (`"$schema": "./org.schema.json"`). Each
// `description` says the form expected, and the loader quotes it when a file does not fit.
// The rules a schema cannot say (one default program with a tier 1, accounts for multi-account
// sources, patterns that compile, unique webhook ids, a secret's decoded length) are lib/org.ts's
// problemsOfOrgFile.

/** `$schema` and `$comment` may stand in any object of the file: the loader ignores them. */
const annotations = {
  $schema: { type: 'string', description: 'the schema editors check the file with: "./org.schema.json"' },
  $comment: { type: 'string', description: 'a note for people; ignored' },
} as const;

const accounts = {
  type: 'object',
  description: 'an object {"accounts": [...]} listing the account ids of the source: [] for a single-account source',
  additionalProperties: false,
  required: ['accounts'],
  properties: {
    ...annotations,
    accounts: {
      type: 'array',
      items: { type: 'string', minLength: 1, maxLength: 100 },
      description: 'account ids, e.g. ["app-ios", "app-android"]',
    },
  },
} as const;

const till = {
  type: 'object',
  description: 'a till: {"username": "store1.till", "password": "..."} or {"username": ..., "passwordMd5": "<md5 hex>"}',
  additionalProperties: false,
  required: ['username'],
  properties: {
    ...annotations,
    username: { type: 'string', minLength: 1, maxLength: 128, pattern: '^[^:]+$', description: "the till code, without ':'" },
    password: { type: 'string', minLength: 1, description: 'the password; stored only as a salted scrypt hash of its md5' },
    passwordMd5: {
      type: 'string',
      pattern: '^[0-9a-fA-F]{32}$',
      description: 'the md5 hex of the password, so that the file need not hold it',
    },
    mayErase: { type: 'boolean', description: 'true: the till may erase customers (DELETE /v2/customers/{id}); default false' },
    mayExport: {
      type: 'boolean',
      description: "true: the till may export a customer's data (GET /v2/customers/{id}/export); default false",
    },
    mayMerge: {
      type: 'boolean',
      description: 'true: the till may merge and unmerge customers (POST /v2/customers/{id}/merge and /unmerge); default false',
    },
  },
} as const;

const extendedField = {
  type: 'object',
  description: 'an extended field: {"name", "label", "dataType", "enumValues"?, "maxLength"?}',
  additionalProperties: false,
  required: ['name', 'label', 'dataType'],
  properties: {
    ...annotations,
    name: { type: 'string', minLength: 1, maxLength: 64 },
    label: { type: 'string' },
    dataType: {
      enum: EXTENDED_FIELD_TYPES,
      description: `one of ${EXTENDED_FIELD_TYPES.join(', ')}`,
    },
    enumValues: { type: 'array', items: { type: 'string' }, description: 'the values of an _ENUM field' },
    maxLength: { type: 'integer', minimum: 1, description: 'the longest STRING value, in characters (default 255)' },
  },
} as const;

const cardSeries = {
  type: 'object',
  description: 'a card series: {"id", "code", "generates", "prefix", "minDigits", "maxDigits", "checkDigit"}',
  additionalProperties: false,
  required: ['id', 'code', 'generates', 'prefix', 'minDigits', 'maxDigits', 'checkDigit'],
  properties: {
    ...annotations,
    id: { type: 'integer', minimum: 1 },
    code: { type: 'string', minLength: 1 },
    generates: { type: 'boolean', description: 'true when the series draws numbers for cards sent without one' },
    prefix: { type: 'string', description: 'fixed leading characters, e.g. "DEMO"; "" for none' },
    minDigits: { type: 'integer', minimum: 1, maximum: 64, description: 'digits after the prefix, check digit included' },
    maxDigits: { type: 'integer', minimum: 1, maximum: 64 },
    checkDigit: { enum: ['luhn', 'none'], description: '"luhn" or "none"' },
  },
} as const;

const program = {
  type: 'object',
  description: 'a loyalty program: {"id", "name", "isDefault", "tiers": [{"number", "name"}, ...]}',
  additionalProperties: false,
  required: ['id', 'name', 'isDefault', 'tiers'],
  properties: {
    ...annotations,
    id: { type: 'integer', minimum: 1 },
    name: { type: 'string', minLength: 1 },
    isDefault: { type: 'boolean', description: 'the program loyalty customers sent without enrollments join, at tier 1' },
    tiers: {
      type: 'array',
      minItems: 1,
      description: 'a list of {"number": 1, "name": "Silver"}, ...',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['number', 'name'],
        properties: { ...annotations, number: { type: 'integer', minimum: 1 }, name: { type: 'string', minLength: 1 } },
      },
    },
  },
} as const;

const blockedValues = {
  type: 'object',
  description: 'an object {"values": [...], "patterns": [...]} of exact normalised values and regular expressions',
  additionalProperties: false,
  properties: {
    ...annotations,
    values: { type: 'array', items: { type: 'string' } },
    patterns: { type: 'array', items: { type: 'string', minLength: 1, maxLength: 200 } },
  },
} as const;

/**
 * `whsec_` and padded base64 of 32 to 88 characters (22 to 66 bytes): the form, checked here in
 * one pattern so that one mistake is one problem; lib/org.ts checks the exact 24 to 64 bytes.
 */
const SECRET_PATTERN = '^whsec_(?:[A-Za-z0-9+/]{4}){7,21}(?:[A-Za-z0-9+/]{4}|[A-Za-z0-9+/]{3}=|[A-Za-z0-9+/]{2}==)$';

const webhook = {
  type: 'object',
  description: 'a webhook subscription: {"id", "url", "events": [...], "secrets": ["whsec_..."], "includeImports"?}',
  additionalProperties: false,
  required: ['id', 'url', 'events', 'secrets'],
  properties: {
    ...annotations,
    id: { type: 'string', pattern: '^[A-Za-z0-9_-]{1,64}$', description: '1 to 64 of A-Z a-z 0-9 _ -, unique in the org, e.g. "crm"' },
    url: {
      type: 'string',
      pattern: '^https?://\\S+$',
      description: 'the URL events are POSTed to: https and a public address in AWS stages (http and loopback on the local stage)',
    },
    events: {
      type: 'array',
      minItems: 1,
      uniqueItems: true,
      items: { enum: EVENT_TYPES, description: `one of ${EVENT_TYPES.join(', ')}` },
      description: `the event types sent, at least one of ${EVENT_TYPES.join(', ')}`,
    },
    secrets: {
      type: 'array',
      minItems: 1,
      maxItems: WEBHOOK_LIMITS.secrets,
      uniqueItems: true,
      items: {
        type: 'string',
        pattern: SECRET_PATTERN,
        description: `"whsec_" followed by the base64 of ${WEBHOOK_LIMITS.secretBytes.min} to ${WEBHOOK_LIMITS.secretBytes.max} random bytes (e.g. "whsec_" and the output of \`openssl rand -base64 32\`)`,
      },
      description: `1 to ${WEBHOOK_LIMITS.secrets} signing secrets; each signs every delivery, so a rotation adds the new one before removing the old one`,
    },
    includeImports: { type: 'boolean', description: 'true: events of imports are sent too; default false' },
  },
} as const;

export const orgSchema = {
  $id: 'org',
  type: 'object',
  description: 'one org',
  additionalProperties: false,
  required: [
    'orgId',
    'name',
    'baseCountry',
    'earliestRegistrationDate',
    'sources',
    'tills',
    'extendedFields',
    'cardSeries',
    'cardStatusLabels',
    'programs',
  ],
  properties: {
    ...annotations,
    orgId: { type: 'integer', minimum: 1, description: 'a positive integer' },
    name: { type: 'string', minLength: 1 },
    baseCountry: {
      type: 'string',
      pattern: '^[A-Z]{2}$',
      description: 'the ISO 3166-1 alpha-2 country national mobiles are read in, e.g. "IN"',
    },
    earliestRegistrationDate: {
      type: 'string',
      pattern: '^\\d{4}-\\d{2}-\\d{2}$',
      description: 'YYYY-MM-DD; registrations dated before it are 8017',
    },
    rateLimitPerMinute: { type: 'integer', minimum: 1, description: 'registrations a minute; unset: the stage default' },
    sources: {
      type: 'object',
      description: 'the enabled sources, each {"accounts": [...]}, e.g. {"INSTORE": {"accounts": []}, "WECHAT": {"accounts": ["wx-main"]}}',
      propertyNames: { enum: [...SOURCES, '$comment'], description: `one of ${SOURCES.join(', ')}` },
      additionalProperties: accounts,
      properties: annotations,
    },
    tills: { type: 'array', minItems: 1, items: till, description: 'the tills (at least one)' },
    extendedFields: { type: 'array', items: extendedField, description: 'the customer extended fields ([] for none)' },
    cardSeries: { type: 'array', items: cardSeries, description: 'the card series ([] for none)' },
    cardStatusLabels: { type: 'array', minItems: 1, items: { type: 'string', minLength: 1 }, description: 'e.g. ["ACTIVE", "SUSPENDED"]' },
    programs: { type: 'array', items: program, description: 'the loyalty programs, one of them isDefault' },
    identityGuards: {
      type: 'object',
      description:
        'placeholder values that never become identifiers: {"blocked": {<type>: {"values", "patterns"}}, "useDefaults", "onBlocked", "maxProfilesPerCustomer"}',
      additionalProperties: false,
      properties: {
        ...annotations,
        blocked: {
          type: 'object',
          additionalProperties: blockedValues,
          properties: annotations,
          description: 'blocked values by identifier type (not card)',
        },
        useDefaults: { type: 'boolean', description: 'true: the defaults as well as the lists here; false: no defaults' },
        onBlocked: { enum: ['drop', 'reject'], description: '"drop" (warning 8200) or "reject" (8014 / 8055 / 400)' },
        maxProfilesPerCustomer: { type: 'integer', minimum: 1 },
      },
    },
    events: {
      type: 'object',
      description: 'what the org\'s events carry: {"full": true} adds the customer document (data.customer); default thin',
      additionalProperties: false,
      properties: {
        ...annotations,
        full: { type: 'boolean', description: 'true: events carry the customer as GET /v2/customers/{id} returns it; default false' },
      },
    },
    webhooks: {
      type: 'array',
      maxItems: WEBHOOK_LIMITS.subscriptions,
      items: webhook,
      description: `the webhook subscriptions, at most ${WEBHOOK_LIMITS.subscriptions}`,
    },
  },
} as const;

/** config/orgs/org.schema.json, for editors: one org or an array of orgs. */
export function orgFileJsonSchema(): object {
  const { $id: _id, ...one } = orgSchema;
  return {
    $schema: 'http://json-schema.org/draft-07/schema#',
    title: 'Loyalty customer registration: org configuration file',
    description: 'one org, or an array of orgs',
    anyOf: [one, { type: 'array', minItems: 1, items: one }],
  };
}
