import { closeSync, existsSync, openSync, statSync, writeSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { normaliseMobile } from '../lib/identifiers';
import { commandStatus, runCommand, UsageError } from './cli';

// Writes realistic sample members for org 100 to a file (or stdout), one add-customer body per
// line (or CSV rows under a header), to try `npm run import` on:
//
//   npm run sample-members -- --count 100000 [--seed N] [--format jsonl|csv] --out members.jsonl
//
// `--out` because `npm run` prints its banner lines to stdout: a redirect would catch them in
// the file too (unless `npm run --silent`), and the importer rejects them as lines not JSON.
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

const USAGE = `usage: npm run sample-members -- --count N [--seed N] [--format jsonl|csv] [--out FILE]

Writes N realistic sample members of org 100: new people in INSTORE, ECOMMERCE, WECHAT (wx-main)
and MOBILE_APP (app-ios), with about 5% exact repeats (8006), 7% the same person from another
source (merge, 8050), 1% placeholder values (9999999999, test@test.com) and 2% invalid lines (not
JSON or a malformed CSV row, an invalid mobile). Deterministic for a seed (default 1).

options:
  --count N            members to write (required)
  --seed N             the same seed gives the same file (default 1)
  --format jsonl|csv   one add-customer body per line, or CSV rows under a header (default jsonl)
  --out FILE           write the members to FILE and one summary line to stderr; without it they
                       go to stdout, where \`npm run\` prints its own banner lines first (so
                       \`> FILE\` needs \`npm run --silent\`)
  -h, --help           this text

  npm run sample-members -- --count 100000 --out members.jsonl`;

/** Where the command writes its help and its one-line messages; a test replaces them. */
export interface SampleIo {
  out: (line: string) => void;
  err: (line: string) => void;
}

const PROCESS_IO: SampleIo = { out: (line) => console.log(line), err: (line) => console.error(line) };

/** A file `--out` names cannot be written: the message is the one line to print. */
class OutError extends Error {}

function readFlags(argv: string[]): { count: number; seed: number; format: SampleFormat; out?: string } | 'help' {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        count: { type: 'string' },
        seed: { type: 'string' },
        format: { type: 'string' },
        out: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (error) {
    throw new UsageError((error as Error).message.split('\n')[0]);
  }
  const { values } = parsed;
  if (values.help) return 'help';
  if (values.count === undefined) throw new UsageError('--count N is required');
  if (!/^\d+$/.test(values.count) || !Number.isSafeInteger(Number(values.count)) || Number(values.count) < 1)
    throw new UsageError(`--count must be a positive integer, not ${values.count}`);
  const seed = values.seed ?? '1';
  if (!/^\d+$/.test(seed) || !Number.isSafeInteger(Number(seed)))
    throw new UsageError(`--seed must be an integer of 0 or more, not ${seed}`);
  const format = values.format ?? 'jsonl';
  if (format !== 'jsonl' && format !== 'csv') throw new UsageError(`--format must be jsonl or csv, not ${format}`);
  if (values.out === '') throw new UsageError('--out needs a file name');
  return { count: Number(values.count), seed: Number(seed), format, out: values.out };
}

async function main(argv: string[], io: SampleIo): Promise<number> {
  const flags = readFlags(argv);
  if (flags === 'help') {
    io.out(USAGE);
    return 0;
  }
  const lines = sampleMembers(flags);
  if (flags.out === undefined) {
    await toStdout(lines);
    return 0;
  }
  const bytes = toFile(flags.out, lines);
  io.err(`sample-members: wrote ${flags.count} members (${flags.format}, seed ${flags.seed}, ${sizeOf(bytes)}) to ${flags.out}`);
  return 0;
}

async function toStdout(lines: Iterable<string>): Promise<void> {
  let buffer = '';
  for (const line of lines) {
    buffer += `${line}\n`;
    if (buffer.length >= 64 * 1024) {
      if (!process.stdout.write(buffer)) await new Promise((resolve) => process.stdout.once('drain', resolve));
      buffer = '';
    }
  }
  if (buffer) process.stdout.write(buffer);
}

/** Writes the lines to `file`; the bytes written. */
function toFile(file: string, lines: Iterable<string>): number {
  let fd: number;
  try {
    if (existsSync(file) && statSync(file).isDirectory()) throw new OutError(`cannot write ${file}: it is a directory`);
    fd = openSync(file, 'w');
  } catch (error) {
    if (error instanceof OutError) throw error;
    const code = (error as { code?: string }).code;
    const reason =
      code === 'ENOENT'
        ? 'no such directory'
        : code === 'EACCES'
          ? 'permission denied'
          : code === 'EISDIR'
            ? 'it is a directory'
            : (error as Error).message;
    throw new OutError(`cannot write ${file}: ${reason}`);
  }
  let bytes = 0;
  try {
    let buffer = '';
    for (const line of lines) {
      buffer += `${line}\n`;
      if (buffer.length >= 64 * 1024) {
        bytes += writeSync(fd, buffer);
        buffer = '';
      }
    }
    if (buffer) bytes += writeSync(fd, buffer);
  } finally {
    closeSync(fd);
  }
  return bytes;
}

function sizeOf(bytes: number): string {
  return bytes < 1024 * 1024 ? `${Math.max(1, Math.round(bytes / 1024))} KB` : `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
}

/** The command's exit status: 0, 2 for bad flags, 1 for a file that cannot be written; its failure's one line to `io.err`. */
export function sampleMembersCommand(argv: string[], io: SampleIo = PROCESS_IO): Promise<number> {
  return commandStatus('sample-members', () => main(argv, io), undefined, io.err);
}

if (require.main === module) {
  runCommand('sample-members', () => main(process.argv.slice(2), PROCESS_IO));
}
