// The CSV columns an import understands (SPEC section 9), each mapped to its place in an
// add-customer body, so a POS export becomes the same request a till would send:
//
//   firstName, lastName, source, accountId        the profile
//   mobile, email, externalId, wechat, fbId, ...  identifiers, one column per type
//   cardNumber, cardSeriesId | cardSeriesCode,    the card (a generating series with no number
//   cardStatus                                    draws one)
//   field.<name>                                  custom fields of the profile
//   ext.<name>                                    the customer's extended fields
//   loyaltyType, createDate, associatedWith       customer-level details
//
// Names match case-insensitively (the prefixes' <name> keeps its case). `source` and at least one
// identifier column are required. An unknown column fails the job before any line is sent, so a
// misspelt `emial` is never silently dropped. Empty cells are left out of the body.

import { IDENTIFIER_TYPES } from '../vocabulary';
import { ImportError } from './errors';

type Place =
  | { kind: 'profile'; key: 'firstName' | 'lastName' | 'source' | 'accountId' }
  | { kind: 'identifier'; type: string }
  | { kind: 'card'; key: 'value' | 'seriesId' | 'seriesCode' | 'statusLabel' }
  | { kind: 'field'; name: string }
  | { kind: 'extendedField'; name: string }
  | { kind: 'customer'; key: 'loyaltyType' | 'createDate' | 'associatedWith' };

const FIXED: Record<string, Place> = {
  firstname: { kind: 'profile', key: 'firstName' },
  lastname: { kind: 'profile', key: 'lastName' },
  source: { kind: 'profile', key: 'source' },
  accountid: { kind: 'profile', key: 'accountId' },
  cardnumber: { kind: 'card', key: 'value' },
  cardseriesid: { kind: 'card', key: 'seriesId' },
  cardseriescode: { kind: 'card', key: 'seriesCode' },
  cardstatus: { kind: 'card', key: 'statusLabel' },
  loyaltytype: { kind: 'customer', key: 'loyaltyType' },
  createdate: { kind: 'customer', key: 'createDate' },
  associatedwith: { kind: 'customer', key: 'associatedWith' },
};
for (const type of IDENTIFIER_TYPES) if (type !== 'card') FIXED[type.toLowerCase()] = { kind: 'identifier', type };

/** Columns that give a profile an identifier; one of them is required. */
const IDENTIFIER_COLUMNS = [...IDENTIFIER_TYPES.filter((t) => t !== 'card'), 'cardNumber', 'cardSeriesId', 'cardSeriesCode'];

export type RowMapper = (cells: readonly string[]) => Record<string, unknown>;

/** Checks a header row and returns the mapping of a row to a body; a header that cannot work is an ImportError. */
export function csvMapper(header: readonly string[], file: string): RowMapper {
  const places: Place[] = [];
  const unknown: string[] = [];
  const seen = new Set<string>();
  for (const raw of header) {
    const name = raw.trim();
    const place = placeOf(name);
    if (!place) {
      unknown.push(name === '' ? '(empty)' : name);
      continue;
    }
    const id = JSON.stringify(place);
    if (seen.has(id)) throw new ImportError(`CSV header of ${file} has the column ${name} twice`);
    seen.add(id);
    places.push(place);
  }
  if (unknown.length > 0) {
    throw new ImportError(
      `CSV header of ${file} has unknown columns ${unknown.join(', ')}; custom fields are field.<name>, extended fields ext.<name>`,
    );
  }
  if (!places.some((p) => p.kind === 'profile' && p.key === 'source')) {
    throw new ImportError(`CSV header of ${file} lacks the required column source`);
  }
  if (!places.some((p) => p.kind === 'identifier' || (p.kind === 'card' && p.key !== 'statusLabel'))) {
    throw new ImportError(`CSV header of ${file} has no identifier column (one of ${IDENTIFIER_COLUMNS.join(', ')})`);
  }
  return (cells) => bodyOf(places, cells);
}

function placeOf(name: string): Place | undefined {
  const lower = name.toLowerCase();
  if (lower.startsWith('field.') && name.length > 'field.'.length) return { kind: 'field', name: name.slice('field.'.length) };
  if (lower.startsWith('ext.') && name.length > 'ext.'.length) return { kind: 'extendedField', name: name.slice('ext.'.length) };
  return FIXED[lower];
}

function bodyOf(places: readonly Place[], cells: readonly string[]): Record<string, unknown> {
  const profile: Record<string, unknown> = {};
  const identifiers: Record<string, unknown>[] = [];
  const card: Record<string, unknown> = {};
  const fields: Record<string, string> = {};
  const extendedFields: Record<string, string> = {};
  const body: Record<string, unknown> = {};
  places.forEach((place, index) => {
    const value = cells[index];
    if (value === undefined || value === '') return;
    switch (place.kind) {
      case 'profile':
        profile[place.key] = value;
        break;
      case 'identifier':
        identifiers.push({ type: place.type, value });
        break;
      case 'card':
        // A cell is text; a series id is an integer in the body (a value that is not one is the rules' 400).
        card[place.key] = place.key === 'seriesId' && /^\d{1,15}$/.test(value) ? Number(value) : value;
        break;
      case 'field':
        fields[place.name] = value;
        break;
      case 'extendedField':
        extendedFields[place.name] = value;
        break;
      case 'customer':
        body[place.key] = value;
        break;
    }
  });
  if (card.value !== undefined || card.seriesId !== undefined || card.seriesCode !== undefined) identifiers.push({ type: 'card', ...card });
  profile.identifiers = identifiers;
  if (Object.keys(fields).length > 0) profile.fields = fields;
  if (Object.keys(extendedFields).length > 0) body.extendedFields = extendedFields;
  return { ...body, profiles: [profile] };
}
