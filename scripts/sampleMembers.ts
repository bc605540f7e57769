import { normaliseMobile } from '../lib/identifiers';

// Writes realistic sample members for org 100 to stdout, one add-customer body per line (or CSV
// rows under a header), to try `npm run import` on:
//
//   npm run sample-members -- --count 100000 [--seed N] [--format jsonl|csv] > members.jsonl
//
// Most lines are new people (Indian names, valid mobiles starting 6-9 in the ways tills type
// them, emails, POS external ids, some extended fields) in INSTORE, ECOMMERCE, WECHAT (wx-main)
// and MOBILE_APP (app-ios). Mixed in, as real exports have them: exact repeats of an earlier line
// (409 / 8006), the same person again from another source (a merge, 8050), placeholder values
// typed at tills (9999999999, test@test.com), and invalid lines (not JSON or a malformed CSV row,
// an invalid mobile). The same seed gives the same file.

export type SampleFormat = 'jsonl' | 'csv';

export interface SampleOptions {
  count: number;
  seed?: number;
  format?: SampleFormat;
}

/** Shares of the lines, in order of the draw; the rest are new people. */
const SHARE = { invalid: 0.02, placeholder: 0.01, duplicate: 0.05, crossSource: 0.07 };

const SOURCES = [
  { source: 'INSTORE', weight: 0.45 },
  { source: 'ECOMMERCE', weight: 0.25 },
  { source: 'WECHAT', accountId: 'wx-main', weight: 0.15 },
  { source: 'MOBILE_APP', accountId: 'app-ios', weight: 0.15 },
] as const;
type SourceChoice = (typeof SOURCES)[number];

const FIRST_NAMES = [
  ['Aarav', 'M'],
  ['Vivaan', 'M'],
  ['Aditya', 'M'],
  ['Arjun', 'M'],
  ['Sai', 'M'],
  ['Reyansh', 'M'],
  ['Krishna', 'M'],
  ['Ishaan', 'M'],
  ['Rohan', 'M'],
  ['Kabir', 'M'],
  ['Vikram', 'M'],
  ['Rahul', 'M'],
  ['Karthik', 'M'],
  ['Manoj', 'M'],
  ['Suresh', 'M'],
  ['Imran', 'M'],
  ['Harpreet', 'F'],
  ['Ananya', 'F'],
  ['Diya', 'F'],
  ['Asha', 'F'],
  ['Priya', 'F'],
  ['Kavya', 'F'],
  ['Meera', 'F'],
  ['Lakshmi', 'F'],
  ['Sneha', 'F'],
  ['Pooja', 'F'],
  ['Nisha', 'F'],
  ['Fatima', 'F'],
  ['Aditi', 'F'],
  ['Ishita', 'F'],
  ['Divya', 'F'],
  ['Shreya', 'F'],
] as const;
const LAST_NAMES = [
  'Sharma',
  'Verma',
  'Gupta',
  'Iyer',
  'Nair',
  'Reddy',
  'Rao',
  'Patel',
  'Shah',
  'Mehta',
  'Joshi',
  'Kulkarni',
  'Deshpande',
  'Singh',
  'Kaur',
  'Gill',
  'Das',
  'Banerjee',
  'Chatterjee',
  'Mukherjee',
  'Menon',
  'Pillai',
  'Khan',
  'Ansari',
  'Fernandes',
  "D'Souza",
  'Naidu',
  'Choudhary',
  'Yadav',
  'Mishra',
];
/** Names some tills record in Devanagari, with the Latin spelling their email uses. */
const DEVANAGARI = [
  ['अनन्या', 'ananya'],
  ['रोहन', 'rohan'],
  ['प्रिया', 'priya'],
  ['विक्रम', 'vikram'],
] as const;
const CITIES = ['Mumbai', 'Pune', 'Bengaluru', 'Chennai', 'Hyderabad', 'Delhi', 'Kolkata', 'Ahmedabad', 'Jaipur', 'Kochi'];
const BRANDS = ['Acme', 'Zenith', 'Lotus', 'Monsoon', 'Indigo'];
const EMAIL_DOMAINS = ['example.com', 'example.in', 'example.org', 'mail.example.net'];
const PLACEHOLDERS = [
  { type: 'mobile', value: '9999999999' },
  { type: 'email', value: 'test@test.com' },
] as const;

const CSV_COLUMNS = [
  'firstName',
  'lastName',
  'source',
  'accountId',
  'mobile',
  'email',
  'externalId',
  'wechat',
  'ext.gender',
  'ext.city',
  'ext.dob',
  'field.favourite_brand',
] as const;

interface Person {
  index: number;
  firstName: string;
  lastName: string;
  gender: string;
  mobile: string;
  email: string;
  externalId: string;
  wechat: string;
  sources: Set<string>;
}

type Body = Record<string, unknown>;

/** A small, fast, seedable generator (mulberry32): the same seed, the same file. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Lines of the sample (the CSV header first), without line terminators. */
export function* sampleMembers(options: SampleOptions): Generator<string> {
  const format = options.format ?? 'jsonl';
  const rand = random(options.seed ?? 1);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(rand() * list.length)];
  const chance = (p: number) => rand() < p;
  const recentLines: string[] = [];
  const recentPeople: Person[] = [];
  const remember = <T>(list: T[], item: T) => {
    list.push(item);
    if (list.length > 2000) list.splice(0, 1000);
  };
  // Distinct mobile numbers for distinct people: a permutation of 0..10^9-1 from the seed.
  const offset = Math.floor(rand() * 1e9);
  let people = 0;

  const newPerson = (): Person => {
    const index = ++people;
    const [first, gender] = pick(FIRST_NAMES);
    const last = pick(LAST_NAMES);
    const devanagari = chance(0.03) ? pick(DEVANAGARI) : undefined;
    const firstName = devanagari ? devanagari[0] : first;
    const latin = (devanagari ? devanagari[1] : first).toLowerCase();
    const email = `${latin}.${last.toLowerCase().replace(/[^a-z]/g, '')}${index}@${pick(EMAIL_DOMAINS)}`;
    return {
      index,
      firstName,
      lastName: last,
      gender: gender === 'M' ? 'Male' : 'Female',
      mobile: mobileOf(index, offset, rand),
      email: chance(0.1) ? email.replace(/^./, (c) => c.toUpperCase()) : email,
      externalId: `POS-${String((offset % 900) + 100)}${String(index).padStart(7, '0')}`,
      wechat: `wx_${(index * 2654435761 + offset).toString(36)}`,
      sources: new Set(),
    };
  };

  const chooseSource = (taken: Set<string>): SourceChoice | undefined => {
    const free = SOURCES.filter((s) => !taken.has(s.source));
    if (free.length === 0) return undefined;
    const total = free.reduce((sum, s) => sum + s.weight, 0);
    let r = rand() * total;
    for (const s of free) if ((r -= s.weight) < 0) return s;
    return free[free.length - 1];
  };

  /** A body for the person in a source: the identifiers that source knows, a mobile typed the way a till would. */
  const bodyOf = (person: Person, choice: SourceChoice, repeat: boolean): Body => {
    const identifiers: { type: string; value: string }[] = [];
    const mobileAs = person.mobile;
    const typed = pick([mobileAs, mobileAs, mobileAs, `+91 ${mobileAs.slice(0, 5)} ${mobileAs.slice(5)}`, `0${mobileAs}`, `91${mobileAs}`]);
    const hasMobile = repeat || chance(0.92);
    if (hasMobile) identifiers.push({ type: 'mobile', value: typed });
    if (!hasMobile || chance(choice.source === 'INSTORE' ? 0.55 : 0.9)) identifiers.push({ type: 'email', value: person.email });
    if ((choice.source === 'INSTORE' || choice.source === 'ECOMMERCE') && chance(0.5))
      identifiers.push({ type: 'externalId', value: person.externalId });
    if (choice.source === 'WECHAT') identifiers.push({ type: 'wechat', value: person.wechat });
    const profile: Body = {
      source: choice.source,
      ...('accountId' in choice ? { accountId: choice.accountId } : {}),
      firstName: person.firstName,
      lastName: person.lastName,
      identifiers,
    };
    if (chance(0.2)) profile.fields = { favourite_brand: pick(BRANDS) };
    const body: Body = { profiles: [profile] };
    if (!repeat && chance(0.35)) {
      const extended: Body = { gender: person.gender, city: pick(CITIES) };
      if (chance(0.5))
        extended.dob = `${1960 + Math.floor(rand() * 45)}-${pad2(1 + Math.floor(rand() * 12))}-${pad2(1 + Math.floor(rand() * 28))}`;
      body.extendedFields = extended;
    }
    return body;
  };

  const lineOf = (body: Body): string => (format === 'csv' ? csvRow(body) : JSON.stringify(body));

  if (format === 'csv') yield CSV_COLUMNS.join(',');
  for (let n = 0; n < options.count; n++) {
    const r = rand();
    let line: string;
    if (r < SHARE.invalid) {
      const body = bodyOf(newPerson(), pick(SOURCES), false);
      if (chance(0.5)) {
        // An invalid mobile: too short to be a number anywhere.
        (body.profiles as Body[])[0].identifiers = [{ type: 'mobile', value: String(10000 + Math.floor(rand() * 90000)) }];
        line = lineOf(body);
      } else {
        // Cut short by a broken export: not JSON (or a CSV row with a stray quote).
        const text = lineOf(body);
        line = format === 'csv' ? `"${text.replace(/"/g, '')}"x` : text.slice(0, Math.floor(text.length / 2));
      }
    } else if (r < SHARE.invalid + SHARE.placeholder) {
      const person = newPerson();
      const body = bodyOf(person, pick(SOURCES), false);
      const placeholder = pick(PLACEHOLDERS);
      const profile = (body.profiles as Body[])[0];
      const others = (profile.identifiers as { type: string }[]).filter((i) => i.type !== placeholder.type);
      profile.identifiers = [{ ...placeholder }, ...others];
      line = lineOf(body);
    } else if (r < SHARE.invalid + SHARE.placeholder + SHARE.duplicate && recentLines.length > 0) {
      line = pick(recentLines);
    } else {
      const earlier = r < SHARE.invalid + SHARE.placeholder + SHARE.duplicate + SHARE.crossSource && recentPeople.length > 0;
      const person = earlier ? pick(recentPeople) : newPerson();
      const choice = chooseSource(person.sources) ?? pick(SOURCES);
      person.sources.add(choice.source);
      line = lineOf(bodyOf(person, choice, earlier));
      remember(recentPeople, person);
      remember(recentLines, line);
    }
    yield line;
  }

  function csvRow(body: Body): string {
    const profile = (body.profiles as Body[])[0];
    const identifiers = Object.fromEntries((profile.identifiers as { type: string; value: string }[]).map((i) => [i.type, i.value]));
    const extended = (body.extendedFields ?? {}) as Record<string, string>;
    const cells: Record<(typeof CSV_COLUMNS)[number], unknown> = {
      firstName: profile.firstName,
      lastName: profile.lastName,
      source: profile.source,
      accountId: profile.accountId,
      mobile: identifiers.mobile,
      email: identifiers.email,
      externalId: identifiers.externalId,
      wechat: identifiers.wechat,
      'ext.gender': extended.gender,
      'ext.city': extended.city,
      'ext.dob': extended.dob,
      'field.favourite_brand': (profile.fields as Record<string, string> | undefined)?.favourite_brand,
    };
    return CSV_COLUMNS.map((column) => csvCell(cells[column])).join(',');
  }
}

/**
 * The mobile of person `index`: 10 digits, the first 6-9, unique per person (the other nine a
 * permutation of the index), a valid Indian mobile as the service reads it, and never a run of
 * one digit or a counting sequence that guards would take for a placeholder.
 */
function mobileOf(index: number, offset: number, rand: () => number): string {
  const rest = String((index * 387420489 + offset) % 1e9).padStart(9, '0');
  const firsts = ['9', '8', '7', '6'];
  const start = Math.floor(rand() * firsts.length);
  for (let k = 0; k < firsts.length; k++) {
    const candidate = firsts[(start + k) % firsts.length] + rest;
    if (!looksLikePlaceholder(candidate) && normaliseMobile(candidate, 'IN').ok) return candidate;
  }
  // 9 followed by anything is a valid Indian mobile; a placeholder look-alike moves on by one.
  return `9${String((Number(rest) + 1) % 1e9).padStart(9, '0')}`;
}

function looksLikePlaceholder(mobile: string): boolean {
  return /^(\d)\1+$/.test(mobile) || '98765432109876543210'.includes(mobile) || '01234567890123456789'.includes(mobile);
}

function pad2(n: number): string {
  return String(n).padStart(2, '0');
}

function csvCell(value: unknown): string {
  if (value === undefined || value === null) return '';
  const text = String(value);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

const USAGE = `usage: npm run sample-members -- --count N [--seed N] [--format jsonl|csv] > members.jsonl

Writes N realistic sample members of org 100 to stdout: new people in INSTORE, ECOMMERCE,
WECHAT (wx-main) and MOBILE_APP (app-ios), with about 5% exact repeats (8006), 7% the same
person from another source (merge, 8050), 1% placeholder values (9999999999, test@test.com)
and 2% invalid lines (not JSON or a malformed CSV row, an invalid mobile). Deterministic for a
seed (default 1).`;

async function main(argv: string[]): Promise<void> {
  let count: number | undefined;
  let seed = 1;
  let format: SampleFormat = 'jsonl';
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = argv[i + 1];
    if (flag === '--help' || flag === '-h') {
      console.log(USAGE);
      return;
    } else if (flag === '--count' && value !== undefined && /^\d+$/.test(value)) {
      count = Number(value);
      i++;
    } else if (flag === '--seed' && value !== undefined && /^\d+$/.test(value)) {
      seed = Number(value);
      i++;
    } else if (flag === '--format' && (value === 'jsonl' || value === 'csv')) {
      format = value;
      i++;
    } else {
      throw new Error(`bad argument ${flag}${value !== undefined && !value.startsWith('--') ? ` ${value}` : ''} (see --help)`);
    }
  }
  if (count === undefined) throw new Error('--count N is required (see --help)');
  let buffer = '';
  for (const line of sampleMembers({ count, seed, format })) {
    buffer += `${line}\n`;
    if (buffer.length >= 64 * 1024) {
      if (!process.stdout.write(buffer)) await new Promise((resolve) => process.stdout.once('drain', resolve));
      buffer = '';
    }
  }
  if (buffer) process.stdout.write(buffer);
}

if (require.main === module) {
  main(process.argv.slice(2)).catch((error) => {
    console.error(`sample-members: ${(error as Error).message}`);
    process.exit(2);
  });
}
