import { writeFileSync } from 'node:fs';
import { parsePhoneNumberFromString, getCountries, type CountryCode, type MetadataJson } from 'libphonenumber-js/core';
import fullMetadata from 'libphonenumber-js/metadata.mobile.json';
import examples from 'libphonenumber-js/examples.mobile.json';

// For the cold start diagnostic: libphonenumber's mobile metadata without each country's
// national formatting rules (element 4 of a country's entry), which parsing and validation,
// all the service does with a phone number, do not read. Checked against the full metadata on
// every run: validity and E.164 of the same inputs must be the same.

type Metadata = { countries: Record<string, unknown[]>; nonGeographic?: Record<string, unknown[]> } & Record<string, unknown>;

function trimmedMetadata(): Metadata {
  const copy = JSON.parse(JSON.stringify(fullMetadata)) as Metadata;
  const trim = (entries: Record<string, unknown[]> | undefined) => {
    for (const entry of Object.values(entries ?? {})) if (entry.length > 4) entry[4] = [];
  };
  trim(copy.countries);
  trim(copy.nonGeographic);
  return copy;
}

export function writeTrimmedMetadata(path: string): { bytes: number; fullBytes: number } {
  const text = JSON.stringify(trimmedMetadata());
  writeFileSync(path, text);
  return { bytes: Buffer.byteLength(text), fullBytes: Buffer.byteLength(JSON.stringify(fullMetadata)) };
}

/** A small deterministic generator, so that every run checks the same inputs. */
function generator(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state * 1664525 + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

export interface MetadataCheck {
  inputs: number;
  valid: number;
  differences: string[];
}

/**
 * Parses, with both metadata, every country's example mobile number (national with the
 * country, and international) and, per country, 40 numbers made from it by changing digits
 * and length, as the service parses them (`parsePhoneNumberFromString`, then `isValid()` and
 * `number`).
 */
export function compareTrimmedMetadata(): MetadataCheck {
  const trimmed = trimmedMetadata() as unknown as MetadataJson;
  const full = fullMetadata as unknown as MetadataJson;
  const random = generator(20_241_125);
  const inputs: [string, CountryCode | undefined][] = [];
  const exampleNumbers = examples as Record<string, string>;
  for (const country of getCountries(full)) {
    const example = exampleNumbers[country];
    if (!example) continue;
    const code = (fullMetadata as Metadata).countries[country][0] as string;
    inputs.push([example, country], [`+${code}${example}`, undefined], [`0${example}`, country]);
    for (let i = 0; i < 40; i++) {
      const digits = example.split('');
      const change = 1 + Math.floor(random() * 3);
      for (let c = 0; c < change; c++) digits[Math.floor(random() * digits.length)] = String(Math.floor(random() * 10));
      const edit = random();
      if (edit < 0.2) digits.push(String(Math.floor(random() * 10)));
      else if (edit < 0.36) digits.pop();
      const national = digits.join('');
      inputs.push(random() < 0.5 ? [national, country] : [`+${code}${national}`, undefined]);
    }
  }
  let valid = 0;
  const differences: string[] = [];
  for (const [text, country] of inputs) {
    const a = country ? parsePhoneNumberFromString(text, country, full) : parsePhoneNumberFromString(text, full);
    const b = country ? parsePhoneNumberFromString(text, country, trimmed) : parsePhoneNumberFromString(text, trimmed);
    const left = a?.isValid() ? a.number : 'invalid';
    const right = b?.isValid() ? b.number : 'invalid';
    if (left !== 'invalid') valid += 1;
    if (left !== right) differences.push(`${country ?? ''} ${text}: ${left} / ${right}`);
  }
  return { inputs: inputs.length, valid, differences };
}
