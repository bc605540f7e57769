// Tolerant input, as Capillary's own backend is (SPEC section 3): before a body is validated,
// at the places the schema marks `coerce`, a non-negative safe integer sent as a JSON number
// where a string is expected (an identifier value, a name, a custom field value) becomes its
// decimal digits, and a string of ASCII digits where an integer is expected (seriesId,
// programId, tierNumber, loyaltyPoints) becomes that integer. An integer beyond 2^53 − 1 cannot be read back exactly (a card number
// would lose digits), so it is refused with a message saying to send it as a string. Any other
// mismatch is left to the validator, which answers 400 with its path. The schema and its
// OpenAPI document keep the canonical types.

import { Code, type Problems } from '../errors';
import { escapePointer } from '../pointer';

interface SchemaNode {
  type?: unknown;
  /** This place is read tolerantly. */
  coerce?: boolean;
  properties?: Record<string, SchemaNode>;
  additionalProperties?: SchemaNode | boolean;
  items?: SchemaNode;
}

const DIGITS = /^\s*\d+\s*$/;

/** Coerces `body` in place, following the schema; problems for numbers too large to read exactly. */
export function coerceScalars(schema: object, body: unknown, problems: Problems): void {
  visit(schema as SchemaNode, body, '', problems);
}

function visit(node: SchemaNode | undefined, value: unknown, path: string, problems: Problems): void {
  if (!node || value === null || typeof value !== 'object') return;
  if (Array.isArray(value)) {
    value.forEach((item, i) => (value[i] = coerced(node.items, item, `${path}/${i}`, problems)));
    return;
  }
  const object = value as Record<string, unknown>;
  for (const key of Object.keys(object)) {
    const child = node.properties?.[key] ?? (typeof node.additionalProperties === 'object' ? node.additionalProperties : undefined);
    object[key] = coerced(child, object[key], `${path}/${escapePointer(key)}`, problems);
  }
}

function coerced(node: SchemaNode | undefined, value: unknown, path: string, problems: Problems): unknown {
  if (!node) return value;
  if (!node.coerce) {
    visit(node, value, path, problems);
    return value;
  }
  if (node.type === 'string' && typeof value === 'number' && Number.isInteger(value) && value >= 0) {
    if (Number.isSafeInteger(value)) return String(value);
    problems.add(Code.badRequest, `${path} is a number too large to read exactly; send it as a string`, path);
    return value;
  }
  if (node.type === 'integer' && typeof value === 'string' && DIGITS.test(value)) {
    const number = Number(value.trim());
    if (Number.isSafeInteger(number)) return number;
    problems.add(Code.badRequest, `${path} is larger than ${Number.MAX_SAFE_INTEGER}`, path);
    return value;
  }
  visit(node, value, path, problems);
  return value;
}
