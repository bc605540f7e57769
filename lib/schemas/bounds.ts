// Checks run on a request body before its validator, in one linear pass, so that no body of at
// most 64 KiB costs more than a few milliseconds or answers a huge error body:
// - every array and object the schema bounds (maxItems, maxProperties) is within its bound; a
//   longer one is one problem, and its contents are not judged at all (the validator, which
//   reports every error, would otherwise judge each of thousands of elements);
// - every string and key is well-formed Unicode (a lone surrogate would become a different
//   string in DynamoDB, so two values could collide; SPEC section 3).

import { Code, isErrorCode, type ErrorCode, type Problems } from '../errors';
import { escapePointer } from '../pointer';
import { isWellFormed } from '../text';

interface SchemaNode {
  type?: unknown;
  maxItems?: number;
  maxProperties?: number;
  properties?: Record<string, SchemaNode>;
  additionalProperties?: SchemaNode | boolean;
  items?: SchemaNode;
  errorCode?: number;
}

/**
 * Adds a problem for each bound the body breaks; true when it breaks none. `text: false` leaves
 * the strings to the validators of the parts (a bulk envelope: each item's text is its own).
 */
export function checkBounds(schema: object, body: unknown, problems: Problems, options: { text?: boolean } = {}): boolean {
  const before = problems.count;
  if (options.text !== false) checkText(body, problems);
  checkSizes(schema as SchemaNode, body, '', Code.badRequest, problems);
  return problems.count === before;
}

/**
 * Every string and key well-formed. An explicit stack, so no nesting can overflow ours, and a
 * path built only for a problem, so that deep nesting stays linear.
 */
function checkText(body: unknown, problems: Problems): void {
  interface Place {
    value: unknown;
    key?: string;
    parent?: Place;
  }
  const pathOf = (place: Place | undefined): string => {
    const keys: string[] = [];
    for (let p = place; p?.key !== undefined; p = p.parent) keys.push(escapePointer(p.key));
    return keys.length === 0 ? '' : `/${keys.reverse().join('/')}`;
  };
  const stack: Place[] = [{ value: body }];
  while (stack.length > 0) {
    const place = stack.pop()!;
    const value = place.value;
    if (typeof value === 'string') {
      if (!isWellFormed(value))
        problems.add(Code.badRequest, `${pathOf(place) || '/'} is not well-formed Unicode (a lone surrogate)`, pathOf(place));
      continue;
    }
    if (value === null || typeof value !== 'object') continue;
    const entries = Array.isArray(value) ? value.map((v, i) => [String(i), v] as const) : Object.entries(value);
    for (const [key, child] of entries) {
      if (!isWellFormed(key))
        problems.add(Code.badRequest, `a key at ${pathOf(place) || '/'} is not well-formed Unicode (a lone surrogate)`, pathOf(place));
      else stack.push({ value: child, key, parent: place });
    }
  }
}

/** Bounds the schema sets on arrays and objects, followed as deep as the schema describes the body. */
function checkSizes(node: SchemaNode | undefined, value: unknown, path: string, inherited: ErrorCode, problems: Problems): void {
  if (!node || value === null || typeof value !== 'object') return;
  // The code a violation inside this subschema has, as the validator reports it (validate.ts).
  const code = isErrorCode(node.errorCode) ? node.errorCode : inherited;
  if (Array.isArray(value)) {
    if (node.maxItems !== undefined && value.length > node.maxItems) {
      problems.add(code, `${path || '/'} has ${value.length} items; at most ${node.maxItems} are allowed`, path);
      return;
    }
    if (node.items) value.forEach((item, i) => checkSizes(node.items, item, `${path}/${i}`, code, problems));
    return;
  }
  const keys = Object.keys(value);
  if (node.maxProperties !== undefined && keys.length > node.maxProperties) {
    problems.add(code, `${path || '/'} has ${keys.length} keys; at most ${node.maxProperties} are allowed`, path);
    return;
  }
  for (const key of keys) {
    const child = node.properties?.[key] ?? (typeof node.additionalProperties === 'object' ? node.additionalProperties : undefined);
    checkSizes(child, (value as Record<string, unknown>)[key], `${path}/${escapePointer(key)}`, code, problems);
  }
}
