import { PassThrough } from 'node:stream';
import { formatDuration, progressFor, RateWindow } from '../../lib/import/progress';

// What an import shows while it runs (lib/import/progress.ts): durations a reader can take in at
// a glance, a rate and ETA from the last stretch of progress (not the average since the start,
// which a slow start or a pause skews for the rest of the run), `--` where there is nothing to
// go on, and the wait for DynamoDB when it stopped answering.

describe('a duration as the progress shows it', () => {
  it.each([
    [0, '0s'],
    [0.4, '0s'],
    [42, '42s'],
    [59.4, '59s'],
    [59.6, '1m00s'],
    [65, '1m05s'],
    [42 * 60 + 59.7, '43m00s'],
    [59.6 * 60, '59m36s'],
    [3599.4, '59m59s'],
    [3599.7, '1h00m'],
    [3600 + 29, '1h00m'],
    [3600 + 31, '1h01m'],
    [2 * 3600 - 20, '2h00m'],
    [2 * 3600 + 59.6 * 60, '3h00m'],
    [27 * 3600 + 5 * 60, '27h05m'],
  ])('%s s is %s', (seconds, shown) => {
    expect(formatDuration(seconds)).toBe(shown);
  });

  it.each([[undefined], [NaN], [Infinity], [-Infinity], [-1]])('%s is --, never NaN or Infinity', (seconds) => {
    expect(formatDuration(seconds)).toBe('--');
  });

  it('never shows 60 in a minutes or seconds place, whatever the value', () => {
    for (let tenths = 0; tenths < 3 * 36_000; tenths += 13) {
      const shown = formatDuration(tenths / 10);
      expect(shown).toMatch(/^(\d+s|\d+m[0-5]\ds|\d+h[0-5]\dm)$/);
    }
  });
});

/** A clock the test moves by hand. */
function clock() {
  let now = 1_000_000;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

describe('the rate and ETA over a moving window', () => {
  it('knows nothing before a second of progress: no rate, no ETA', () => {
    const time = clock();
    const window = new RateWindow(20_000, time.now);
    window.start(1_000, 0);
    expect(window.estimate()).toEqual({ linesPerSecond: undefined, etaSeconds: undefined });
    time.advance(500);
    window.add(100, 10);
    expect(window.estimate()).toEqual({ linesPerSecond: undefined, etaSeconds: undefined });
  });

  it('gives the lines per second and the time left at the pace of the window', () => {
    const time = clock();
    const window = new RateWindow(20_000, time.now);
    window.start(10_000, 0);
    for (let second = 1; second <= 5; second++) {
      time.advance(1000);
      window.add(second * 100, second * 10);
    }
    // 100 bytes and 10 lines a second; 9,500 bytes left.
    expect(window.estimate()).toEqual({ linesPerSecond: 10, etaSeconds: 95 });
  });

  it('follows the recent pace, not the average since the start', () => {
    const time = clock();
    const window = new RateWindow(10_000, time.now);
    window.start(1_000_000, 0);
    // A slow first minute (1 line a second), then 100 lines a second.
    for (let second = 1; second <= 60; second++) {
      time.advance(1000);
      window.add(second * 10, second);
    }
    for (let second = 1; second <= 30; second++) {
      time.advance(1000);
      window.add(600 + second * 1000, 60 + second * 100);
    }
    const { linesPerSecond, etaSeconds } = window.estimate();
    expect(linesPerSecond).toBe(100);
    expect(etaSeconds).toBeCloseTo((1_000_000 - 30_600) / 1000, 0);
  });

  it('counts from where a resumed job started, not from the start of the file', () => {
    const time = clock();
    const window = new RateWindow(20_000, time.now);
    window.start(10_000, 6_000);
    time.advance(2000);
    window.add(6_400, 20);
    expect(window.estimate()).toEqual({ linesPerSecond: 10, etaSeconds: 18 });
  });

  it('slows as progress stalls and knows no ETA once a whole window went by without any', () => {
    const time = clock();
    const window = new RateWindow(10_000, time.now);
    window.start(10_000, 0);
    for (let second = 1; second <= 10; second++) {
      time.advance(1000);
      window.add(second * 100, second * 10);
    }
    const before = window.estimate();
    time.advance(5000);
    const stalling = window.estimate();
    expect(stalling.linesPerSecond).toBeLessThan(before.linesPerSecond!);
    expect(stalling.etaSeconds).toBeGreaterThan(before.etaSeconds!);
    time.advance(10_000);
    expect(window.estimate()).toEqual({ linesPerSecond: 0, etaSeconds: undefined });
  });

  it('gives a finite ETA or none, never NaN or Infinity, for a file that grew past its size or an empty one', () => {
    const time = clock();
    const empty = new RateWindow(20_000, time.now);
    empty.start(0, 0);
    time.advance(2000);
    expect(Number.isNaN(empty.estimate().etaSeconds)).toBe(false);
    const grown = new RateWindow(20_000, time.now);
    grown.start(100, 0);
    time.advance(2000);
    grown.add(300, 3);
    expect(grown.estimate().etaSeconds).toBe(0);
  });
});

/** A stream that says it is not a terminal, and what was written to it. */
function plainStream() {
  const stream = new PassThrough() as PassThrough & { isTTY?: boolean };
  let text = '';
  stream.on('data', (chunk) => (text += String(chunk)));
  return { stream: stream as unknown as NodeJS.WriteStream, text: () => text };
}

describe('plain progress lines (a log file, CI)', () => {
  beforeEach(() => jest.useFakeTimers({ now: 0, doNotFake: ['nextTick', 'setImmediate'] }));
  afterEach(() => jest.useRealTimers());

  it('print the lines, the share of the file, the rate and the ETA, -- while they are not known', () => {
    const out = plainStream();
    const progress = progressFor(out.stream, 5000);
    progress.start(10_000, 0);
    progress.update(10, 1);
    jest.advanceTimersByTime(5000);
    progress.update(1_000, 100);
    jest.advanceTimersByTime(5000);
    progress.stop();
    const lines = out.text().trimEnd().split('\n');
    expect(lines.every((line) => /^import: \d+ lines, \d+% of the file, /.test(line))).toBe(true);
    expect(lines.at(-1)).toMatch(/^import: 100 lines, 10% of the file, \d+\/s, ETA (\d+m)?\d+s$/);
    expect(out.text()).not.toMatch(/NaN|Infinity|undefined/);
  });

  it('say at once that DynamoDB is not answering and when the next try is, then keep saying it while it lasts', () => {
    const out = plainStream();
    const progress = progressFor(out.stream, 5000);
    progress.start(10_000, 0);
    progress.update(1_000, 100);
    jest.advanceTimersByTime(5000);
    progress.retrying(8_000, 3, 8);
    expect(out.text().trimEnd().split('\n').at(-1)).toBe(
      'import: 100 lines, 10% of the file, DynamoDB unavailable, retrying in 8s (retry 3 of 7)',
    );
    jest.advanceTimersByTime(5000);
    expect(out.text().trimEnd().split('\n').at(-1)).toBe(
      'import: 100 lines, 10% of the file, DynamoDB unavailable, retrying in 3s (retry 3 of 7)',
    );
    jest.advanceTimersByTime(5000);
    expect(out.text().trimEnd().split('\n').at(-1)).toBe('import: 100 lines, 10% of the file, DynamoDB unavailable, retrying now');
    // A line went through: DynamoDB answers again, and the rate and ETA come back.
    progress.update(1_100, 110);
    jest.advanceTimersByTime(5000);
    expect(out.text().trimEnd().split('\n').at(-1)).toMatch(/^import: 110 lines, 11% of the file, (\d+|--)\/s, ETA \S+$/);
    progress.stop();
  });
});

describe('the bar on a terminal', () => {
  beforeEach(() => jest.useFakeTimers({ now: 0, doNotFake: ['nextTick', 'setImmediate'] }));
  afterEach(() => jest.useRealTimers());

  /** A stream that says it is a terminal, and the last line drawn on it. */
  function terminal() {
    let text = '';
    const stream = {
      isTTY: true,
      columns: 200,
      write: (chunk: string) => ((text += chunk), true),
      cursorTo: () => true,
      clearLine: () => true,
      moveCursor: () => true,
      on: () => stream,
      removeListener: () => stream,
    };
    // Escape sequences (cursor moves, clearing) end what was drawn, as a terminal would show it.
    const escapes = new RegExp(`${String.fromCharCode(27)}\\[[0-9;?]*[a-zA-Z]`, 'g');
    const shown = () =>
      text
        .replace(escapes, '\n')
        .split(/[\r\n]/)
        .filter(Boolean)
        .at(-1) ?? '';
    return { stream: stream as unknown as NodeJS.WriteStream, shown };
  }

  it('shows the rate and ETA of the window, -- before it knows them', () => {
    const tty = terminal();
    const progress = progressFor(tty.stream);
    progress.start(10_000, 0);
    jest.advanceTimersByTime(300);
    expect(tty.shown()).toMatch(/\| 0 lines \| --\/s \| ETA --$/);
    jest.advanceTimersByTime(700);
    for (let second = 1; second <= 4; second++) {
      progress.update(second * 100, second * 10);
      if (second < 4) jest.advanceTimersByTime(1000);
    }
    jest.advanceTimersByTime(300);
    expect(tty.shown()).toMatch(/\| 4% \| 40 lines \| 10\/s \| ETA 1m36s$/);
    progress.stop();
  });

  it('counts down to the next try while DynamoDB is not answering', () => {
    const tty = terminal();
    const progress = progressFor(tty.stream);
    progress.start(10_000, 0);
    progress.update(100, 10);
    progress.retrying(12_000, 4, 8);
    jest.advanceTimersByTime(300);
    expect(tty.shown()).toMatch(/\| 10 lines \| DynamoDB unavailable, retrying in 12s \(retry 4 of 7\)$/);
    jest.advanceTimersByTime(5000);
    expect(tty.shown()).toMatch(/\| DynamoDB unavailable, retrying in 7s \(retry 4 of 7\)$/);
    progress.stop();
  });
});
