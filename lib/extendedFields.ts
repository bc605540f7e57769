import { getCountries } from 'libphonenumber-js/mobile';
import { isIsoDate, parseDateTimeWithOffset } from './dates';
import { isStorableNumber } from './numbers';
import { Code, type Problems } from './errors';
import type { ExtendedFieldDefinition } from './org';
import type { ExtendedFieldValue } from './customer';
import { escapePointer } from './pointer';

// Extended field values checked against the org's definitions (SPEC sections 3 and 7).
// `null` and `""` are dropped silently; everything else must be enabled and of its type.

const DEFAULT_STRING_LENGTH = 255;
/**
 * ISO 3166-1 alpha-2 codes: libphonenumber's regions, less its non-ISO ones, plus the
 * officially assigned codes of territories without a telephone numbering plan of their own.
 */
const NOT_ISO_3166 = new Set(['AC', 'TA', 'XK']);
const WITHOUT_NUMBERING_PLAN = ['AQ', 'BV', 'GS', 'HM', 'PN', 'TF', 'UM'];
const COUNTRIES: ReadonlySet<string> = new Set([...getCountries().filter((c) => !NOT_ISO_3166.has(c)), ...WITHOUT_NUMBERING_PLAN]);

export function readExtendedFields(
  values: Record<string, unknown> | undefined,
  definitions: readonly ExtendedFieldDefinition[],
  basePath: string,
  problems: Problems,
): Record<string, ExtendedFieldValue> {
  const accepted: Record<string, ExtendedFieldValue> = {};
  for (const [name, raw] of Object.entries(values ?? {})) {
    if (raw === null || (typeof raw === 'string' && raw.trim() === '')) continue;
    const path = `${basePath}/${escapePointer(name)}`;
    const definition = definitions.find((d) => d.name === name);
    if (!definition) {
      problems.add(Code.invalidExtendedField, `extended field ${name} is not enabled`, path);
      continue;
    }
    const result = checkValue(definition, raw);
    if (typeof result === 'string') problems.add(Code.invalidExtendedField, `extended field ${name} ${result}`, path);
    else accepted[name] = result.value;
  }
  return accepted;
}

function checkValue(definition: ExtendedFieldDefinition, raw: unknown): { value: ExtendedFieldValue } | string {
  const text = typeof raw === 'string' ? raw.trim() : undefined;
  switch (definition.dataType) {
    case 'STRING': {
      if (text === undefined) return 'must be a string';
      const max = definition.maxLength ?? DEFAULT_STRING_LENGTH;
      // Characters, as JSON Schema's maxLength counts them, not UTF-16 code units.
      return [...text].length <= max ? { value: text } : `must be at most ${max} characters`;
    }
    case 'INTEGER': {
      const n = typeof raw === 'number' ? raw : text !== undefined && /^-?\d{1,15}$/.test(text) ? Number(text) : NaN;
      return Number.isSafeInteger(n) ? { value: n } : 'must be an integer';
    }
    case 'DOUBLE': {
      const n = typeof raw === 'number' ? raw : text !== undefined && /^-?\d+(\.\d+)?([eE][-+]?\d+)?$/.test(text) ? Number(text) : NaN;
      return isStorableNumber(n) ? { value: n } : `must be a number of magnitude 1e-125 to ${Number.MAX_SAFE_INTEGER}`;
    }
    case 'DATE':
      return text !== undefined && isIsoDate(text) ? { value: text } : 'must be a date YYYY-MM-DD';
    case 'DATETIME':
      return text !== undefined && parseDateTimeWithOffset(text) !== undefined
        ? { value: text }
        : 'must be an ISO 8601 date-time with offset';
    case 'STANDARD_ENUM':
    case 'CUSTOM_ENUM':
      return text !== undefined && (definition.enumValues ?? []).includes(text)
        ? { value: text }
        : `must be one of ${(definition.enumValues ?? []).join(', ')}`;
    case 'COUNTRY':
      return text !== undefined && COUNTRIES.has(text.toUpperCase())
        ? { value: text.toUpperCase() }
        : 'must be an ISO 3166-1 alpha-2 country code';
  }
}
