// Progress of an import on stderr: a bar with rate and ETA on a terminal (cli-progress), a plain
// line every few seconds otherwise (a log file, CI). Progress is measured in bytes of the input
// (the finished prefix's offset), so the ETA needs no first pass to count lines.
//
// Rate and ETA come from a moving window (RateWindow: the last 20 s), not the average since the
// start: a slow start, a resumed job or a pause would skew an average for the rest of the run.
// While DynamoDB does not answer, the rate and ETA give way to the wait for the next try, so a
// stalled bar says why it stalled.

import { SingleBar } from 'cli-progress';

export interface Progress {
  start(totalBytes: number, doneBytes: number): void;
  /** The finished prefix moved: `bytes` into the file, `lines` written this run. */
  update(bytes: number, lines: number): void;
  /** DynamoDB did not answer a line's try `attempt` of `attempts`: it is tried again in `pauseMs`. */
  retrying(pauseMs: number, attempt: number, attempts: number): void;
  stop(): void;
}

export function progressFor(stream: NodeJS.WriteStream = process.stderr, plainEveryMs = 5000): Progress {
  return stream.isTTY ? new Bar(stream) : new PlainLines(stream, plainEveryMs);
}

/** No output (tests, the bench). */
export const silentProgress: Progress = { start: () => {}, update: () => {}, retrying: () => {}, stop: () => {} };

/** `--` for a duration not known; else `42s`, `5m07s`, `1h00m`, rounded first so no place shows 60. */
export function formatDuration(seconds: number | undefined): string {
  if (seconds === undefined || !Number.isFinite(seconds) || seconds < 0) return '--';
  const whole = Math.round(seconds);
  if (whole < 60) return `${whole}s`;
  if (whole < 3600) return `${Math.floor(whole / 60)}m${pad2(whole % 60)}s`;
  const minutes = Math.round(seconds / 60);
  return `${Math.floor(minutes / 60)}h${pad2(minutes % 60)}m`;
}

export interface Estimate {
  /** Lines written per second over the window; undefined before a second of it. */
  linesPerSecond: number | undefined;
  /** Seconds to the end of the file at the window's pace; undefined when there is no pace to go on. */
  etaSeconds: number | undefined;
}

interface Sample {
  at: number;
  bytes: number;
  lines: number;
}

/** Less than this much time measured says nothing yet. */
const MIN_SPAN_MS = 1000;
/** Samples kept at most this often: a fast import updates thousands of times a second. */
const SAMPLE_EVERY_MS = 250;

/** Rate and ETA over the last `windowMs` of progress, measured up to now (a stall slows them). */
export class RateWindow {
  private samples: Sample[] = [];
  private latest: Sample = { at: 0, bytes: 0, lines: 0 };
  private total = 0;

  constructor(
    private readonly windowMs = 20_000,
    private readonly now: () => number = () => performance.now(),
  ) {}

  start(totalBytes: number, doneBytes: number): void {
    this.total = totalBytes;
    this.latest = { at: this.now(), bytes: doneBytes, lines: 0 };
    this.samples = [this.latest];
  }

  add(bytes: number, lines: number): void {
    this.latest = { at: this.now(), bytes, lines };
    const last = this.samples[this.samples.length - 1];
    if (!last || this.latest.at - last.at >= SAMPLE_EVERY_MS) this.samples.push(this.latest);
  }

  estimate(): Estimate {
    const now = this.now();
    const from = now - this.windowMs;
    // The oldest sample inside the window; with none left, the latest (no progress since: rate 0).
    let first = this.samples.findIndex((sample) => sample.at >= from);
    if (first === -1) first = this.samples.length - 1;
    if (first > 0) this.samples = this.samples.slice(first);
    const oldest = this.samples[0] ?? this.latest;
    const spanMs = now - oldest.at;
    if (spanMs < MIN_SPAN_MS) return { linesPerSecond: undefined, etaSeconds: undefined };
    const seconds = spanMs / 1000;
    const linesPerSecond = (this.latest.lines - oldest.lines) / seconds;
    const bytesPerSecond = (this.latest.bytes - oldest.bytes) / seconds;
    const left = Math.max(this.total - this.latest.bytes, 0);
    const etaSeconds = left === 0 ? 0 : bytesPerSecond > 0 ? left / bytesPerSecond : undefined;
    return { linesPerSecond, etaSeconds };
  }
}

/** The next try of a line DynamoDB did not answer: the soonest still to come. */
class Outage {
  private retryAt: number | undefined;
  private attempt = 0;
  private attempts = 0;

  constructor(private readonly now: () => number) {}

  get active(): boolean {
    return this.retryAt !== undefined;
  }

  /** Returns true when the outage has just begun. */
  retrying(pauseMs: number, attempt: number, attempts: number): boolean {
    const now = this.now();
    const began = this.retryAt === undefined;
    const at = now + pauseMs;
    if (began || this.retryAt! <= now || at < this.retryAt!) {
      this.retryAt = at;
      this.attempt = attempt;
      this.attempts = attempts;
    }
    return began;
  }

  /** A line was written: DynamoDB answers again. */
  clear(): void {
    this.retryAt = undefined;
  }

  describe(): string {
    const seconds = Math.ceil((this.retryAt! - this.now()) / 1000);
    return seconds > 0
      ? `DynamoDB unavailable, retrying in ${formatDuration(seconds)} (retry ${this.attempt} of ${this.attempts - 1})`
      : 'DynamoDB unavailable, retrying now';
  }
}

function describeRate(estimate: Estimate): string {
  const rate = estimate.linesPerSecond === undefined ? '--' : String(Math.round(estimate.linesPerSecond));
  return `${rate}/s`;
}

const now = () => performance.now();

class Bar implements Progress {
  private readonly bar: SingleBar;
  private readonly window = new RateWindow(20_000, now);
  private readonly outage = new Outage(now);
  private lines = 0;
  private bytes = 0;
  private ticker: NodeJS.Timeout | undefined;

  constructor(stream: NodeJS.WriteStream) {
    this.bar = new SingleBar({
      stream,
      format: 'import |{bar}| {percentage}% | {lines} lines | {status}',
      barsize: 30,
      hideCursor: true,
      fps: 5,
    });
  }

  start(totalBytes: number, doneBytes: number): void {
    this.window.start(totalBytes, doneBytes);
    this.bytes = doneBytes;
    this.bar.start(Math.max(totalBytes, 1), doneBytes, this.payload());
    // A stall and a countdown change what is shown without any update.
    this.ticker = setInterval(() => this.bar.update(this.bytes, this.payload()), 1000);
    this.ticker.unref();
  }

  update(bytes: number, lines: number): void {
    if (lines > this.lines) this.outage.clear();
    this.bytes = bytes;
    this.lines = lines;
    this.window.add(bytes, lines);
    this.bar.update(bytes, this.payload());
  }

  retrying(pauseMs: number, attempt: number, attempts: number): void {
    this.outage.retrying(pauseMs, attempt, attempts);
    this.bar.update(this.bytes, this.payload());
  }

  stop(): void {
    if (this.ticker) clearInterval(this.ticker);
    this.bar.stop();
  }

  private payload(): { lines: number; status: string } {
    if (this.outage.active) return { lines: this.lines, status: this.outage.describe() };
    const estimate = this.window.estimate();
    return { lines: this.lines, status: `${describeRate(estimate)} | ETA ${formatDuration(estimate.etaSeconds)}` };
  }
}

class PlainLines implements Progress {
  private total = 1;
  private readonly window = new RateWindow(20_000, now);
  private readonly outage = new Outage(now);
  private timer: NodeJS.Timeout | undefined;
  private bytes = 0;
  private lines = 0;
  private last = 0;

  constructor(
    private readonly stream: NodeJS.WritableStream,
    private readonly everyMs: number,
  ) {}

  start(totalBytes: number, doneBytes: number): void {
    this.total = Math.max(totalBytes, 1);
    this.bytes = doneBytes;
    this.window.start(totalBytes, doneBytes);
    this.timer = setInterval(() => this.print(), this.everyMs);
    this.timer.unref();
  }

  update(bytes: number, lines: number): void {
    if (lines > this.lines) this.outage.clear();
    this.bytes = bytes;
    this.lines = lines;
    this.window.add(bytes, lines);
  }

  retrying(pauseMs: number, attempt: number, attempts: number): void {
    // Said at once, not at the next tick: an outage is news.
    if (this.outage.retrying(pauseMs, attempt, attempts)) this.write(this.outage.describe());
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  private print(): void {
    if (this.outage.active) {
      this.write(this.outage.describe());
      return;
    }
    if (this.lines === this.last) return;
    this.last = this.lines;
    const estimate = this.window.estimate();
    this.write(`${describeRate(estimate)}, ETA ${formatDuration(estimate.etaSeconds)}`);
  }

  private write(status: string): void {
    const percent = Math.floor((100 * this.bytes) / this.total);
    this.stream.write(`import: ${this.lines} lines, ${percent}% of the file, ${status}\n`);
  }
}

function pad2(n: number): string {
  return String(n).padStart(2, '0');
}
