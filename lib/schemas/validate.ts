// Runs a request's compiled validator and turns what it finds into the spec's problems and
// warnings.

import type { ValidateFunction } from 'ajv';
import { Code, isErrorCode, Problems, warning, type ErrorCode, type Warning } from '../errors';
import { escapePointer } from '../pointer';
import { checkBounds } from './bounds';
import { coerceScalars } from './coerce';
import { addCustomerSchema, type AddCustomerBody } from './addCustomer.schema';
import { bulkAddCustomersSchema, type BulkAddCustomersBody } from './bulkAddCustomers.schema';
import { changeIdentifierSchema, type ChangeIdentifierBody } from './changeIdentifier.schema';
import { mergeCustomersSchema, unmergeCustomerSchema, type MergeCustomersBody, type UnmergeCustomerBody } from './mergeCustomers.schema';
import { orgSchema } from './orgFile.schema';
import { updateCustomerSchema, type UpdateCustomerBody } from './updateCustomer.schema';
import {
  validateAddCustomer,
  validateBulkAddCustomers,
  validateChangeIdentifier,
  validateMergeCustomers,
  validateOrg,
  validateUnmergeCustomer,
  validateUpdateCustomer,
} from './validators.generated';

export interface Checked<T> {
  body: T;
  warnings: Warning[];
}

/** Unknown keys reported one by one; beyond this, one warning says how many more were ignored. */
const MAX_UNKNOWN_KEY_WARNINGS = 50;

const MESSAGES: Partial<Record<ErrorCode, string>> = {
  [Code.invalidSource]: 'invalid source',
  [Code.profileWithoutIdentifier]: 'invalid identifiers',
  [Code.invalidCommChannel]: 'invalid comm channel',
};

/**
 * Runs a compiled validator and sorts what it finds: unknown keys become warnings 8200 (so a
 * typo is never silent), every other violation an error with the code its subschema names.
 */
function checkAgainstSchema<T>(validate: ValidateFunction<T>, schema: object, body: unknown, options: { text?: boolean } = {}): Checked<T> {
  const warnings: Warning[] = [];
  const problems = new Problems();
  let unknownKeys = 0;
  // Bounds first: a body over them is refused without running the validator over its contents.
  if (!checkBounds(schema, body, problems, options)) problems.throwIfAny();
  coerceScalars(schema, body, problems);
  problems.throwIfAny();
  if (!validate(body)) {
    for (const error of validate.errors ?? []) {
      if (error.keyword === 'additionalProperties') {
        const path = `${error.instancePath}/${escapePointer(String(error.params.additionalProperty))}`;
        if (++unknownKeys <= MAX_UNKNOWN_KEY_WARNINGS) warnings.push(warning(Code.ignored, `unknown key ignored: ${path}`, path));
        continue;
      }
      const code = errorCodeAlong(schema, error.schemaPath);
      const path =
        error.keyword === 'required' ? `${error.instancePath}/${escapePointer(String(error.params.missingProperty))}` : error.instancePath;
      // One problem per place and code (Problems keeps it so): a failed anyOf also reports each of its branches.
      problems.add(code, `${MESSAGES[code] ?? 'invalid request'}: ${path || '/'} ${error.message ?? ''}`.trim(), path);
    }
  }
  // Bounded, so that a response (and the idempotency record holding it) stays small.
  if (unknownKeys > MAX_UNKNOWN_KEY_WARNINGS) {
    warnings.push(warning(Code.ignored, `${unknownKeys - MAX_UNKNOWN_KEY_WARNINGS} more unknown keys ignored`));
  }
  problems.throwIfAny(warnings);
  return { body: body as T, warnings };
}

/** The `errorCode` of the innermost subschema on the way to the failed keyword, else 400. */
function errorCodeAlong(schema: object, schemaPath: string): ErrorCode {
  let code: ErrorCode = Code.badRequest;
  let node: unknown = schema;
  for (const segment of schemaPath.replace(/^#\/?/, '').split('/')) {
    const annotated = (node as { errorCode?: unknown } | undefined)?.errorCode;
    if (isErrorCode(annotated)) code = annotated;
    node = (node as Record<string, unknown> | undefined)?.[segment.replace(/~1/g, '/').replace(/~0/g, '~')];
  }
  return code;
}

export function checkUpdateCustomerBody(body: unknown): Checked<UpdateCustomerBody> {
  return checkAgainstSchema(validateUpdateCustomer, updateCustomerSchema, body);
}

export function checkChangeIdentifierBody(body: unknown): Checked<ChangeIdentifierBody> {
  return checkAgainstSchema(validateChangeIdentifier, changeIdentifierSchema, body);
}

export function checkMergeCustomersBody(body: unknown): Checked<MergeCustomersBody> {
  return checkAgainstSchema(validateMergeCustomers, mergeCustomersSchema, body);
}

export function checkUnmergeCustomerBody(body: unknown): Checked<UnmergeCustomerBody> {
  return checkAgainstSchema(validateUnmergeCustomer, unmergeCustomerSchema, body);
}

export function checkAddCustomerBody(body: unknown): Checked<AddCustomerBody> {
  return checkAgainstSchema(validateAddCustomer, addCustomerSchema, body);
}

/** The bulk envelope's own bounds; its items are judged one by one with checkAddCustomerBody. */
export function checkBulkEnvelope(body: unknown): BulkAddCustomersBody {
  // The envelope is judged by its own bounds only (SPEC section 8): bad text inside an item is
  // that item's 400, found when the item is checked as a single add.
  return checkAgainstSchema(validateBulkAddCustomers, bulkAddCustomersSchema, body, { text: false }).body;
}

/**
 * What is wrong with the shape of one org of an org file, each problem saying where, what, and
 * the form expected there (the schema's description), so that an operator can fix it.
 */
export function problemsOfOrgShape(org: unknown): string[] {
  if (validateOrg(org)) return [];
  const label = `org ${(org as { orgId?: unknown } | null)?.orgId ?? '?'}`;
  const seen = new Set<string>();
  const problems: string[] = [];
  for (const error of validateOrg.errors ?? []) {
    const where =
      error.keyword === 'additionalProperties' ? `${error.instancePath}/${String(error.params.additionalProperty)}` : error.instancePath;
    const what = error.keyword === 'additionalProperties' ? 'is not a key of this object' : (error.message ?? 'is invalid');
    const expected = descriptionAlong(orgSchema, error.schemaPath);
    const line = `${label}: ${where || '/'} ${what}${expected ? `; expected ${expected}` : ''}`;
    if (!seen.has(line)) problems.push(line);
    seen.add(line);
  }
  return problems;
}

/** The description of the innermost subschema on the way to the failed keyword. */
function descriptionAlong(schema: object, schemaPath: string): string | undefined {
  let description: string | undefined;
  let node: unknown = schema;
  for (const segment of schemaPath.replace(/^#\/?/, '').split('/')) {
    const here = (node as { description?: unknown } | undefined)?.description;
    if (typeof here === 'string') description = here;
    node = (node as Record<string, unknown> | undefined)?.[segment.replace(/~1/g, '/').replace(/~0/g, '~')];
  }
  const last = (node as { description?: unknown } | undefined)?.description;
  return typeof last === 'string' ? last : description;
}
