// Progress of an import on stderr: a bar with rate and ETA on a terminal (cli-progress), a plain
// line every few seconds otherwise (a log file, CI). Progress is measured in bytes of the input
// (the finished prefix's offset), so the ETA needs no first pass to count lines.

import { SingleBar } from 'cli-progress';

export interface Progress {
  start(totalBytes: number, doneBytes: number): void;
  /** The finished prefix moved: `bytes` into the file, `lines` written this run. */
  update(bytes: number, lines: number): void;
  stop(): void;
}

export function progressFor(stream: NodeJS.WriteStream = process.stderr, plainEveryMs = 5000): Progress {
  return stream.isTTY ? new Bar(stream) : new PlainLines(stream, plainEveryMs);
}

/** No output (tests, the bench). */
export const silentProgress: Progress = { start: () => {}, update: () => {}, stop: () => {} };

class Bar implements Progress {
  private readonly bar: SingleBar;
  private started = 0;

  constructor(stream: NodeJS.WriteStream) {
    this.bar = new SingleBar({
      stream,
      format: 'import |{bar}| {percentage}% | {lines} lines | {rate}/s | ETA {eta_formatted}',
      barsize: 30,
      hideCursor: true,
      etaBuffer: 200,
      fps: 5,
    });
  }

  start(totalBytes: number, doneBytes: number): void {
    this.started = performance.now();
    this.bar.start(Math.max(totalBytes, 1), doneBytes, { lines: 0, rate: 0 });
  }

  update(bytes: number, lines: number): void {
    const seconds = (performance.now() - this.started) / 1000;
    this.bar.update(bytes, { lines, rate: seconds > 0 ? Math.round(lines / seconds) : 0 });
  }

  stop(): void {
    this.bar.stop();
  }
}

class PlainLines implements Progress {
  private total = 1;
  private startBytes = 0;
  private started = 0;
  private last = 0;
  private timer: NodeJS.Timeout | undefined;
  private bytes = 0;
  private lines = 0;

  constructor(
    private readonly stream: NodeJS.WritableStream,
    private readonly everyMs: number,
  ) {}

  start(totalBytes: number, doneBytes: number): void {
    this.total = Math.max(totalBytes, 1);
    this.startBytes = doneBytes;
    this.bytes = doneBytes;
    this.started = performance.now();
    this.timer = setInterval(() => this.print(), this.everyMs);
    this.timer.unref();
  }

  update(bytes: number, lines: number): void {
    this.bytes = bytes;
    this.lines = lines;
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  private print(): void {
    if (this.lines === this.last) return;
    this.last = this.lines;
    const seconds = (performance.now() - this.started) / 1000;
    const byteRate = (this.bytes - this.startBytes) / seconds;
    const eta = byteRate > 0 ? Math.round((this.total - this.bytes) / byteRate) : undefined;
    const percent = Math.floor((100 * this.bytes) / this.total);
    this.stream.write(
      `import: ${this.lines} lines, ${percent}% of the file, ${Math.round(this.lines / seconds)}/s, ETA ${eta === undefined ? '?' : `${eta} s`}\n`,
    );
  }
}
