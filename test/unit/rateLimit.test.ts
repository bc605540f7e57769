import { blockSize } from '../../lib/rateLimit';

// How much an instance reserves from its org's minute when it has nothing left to serve from
// (lib/rateLimit.ts): what it is likely to serve before the minute ends, and no more.

const SECOND = 1000;
const at = (limit: number, served: number, elapsedSeconds: number, leftSeconds: number) =>
  blockSize({ limit, served, elapsedMs: elapsedSeconds * SECOND, leftMs: leftSeconds * SECOND });

describe('the block an instance reserves', () => {
  test("is one for the instance's first request of the minute", () => {
    expect(at(100_000, 0, 0, 60)).toBe(1);
    expect(at(100_000, 0, 30, 30)).toBe(1);
  });

  test('early in the minute, doubles with what the instance has served: 1, 1, 2, 4, 8', () => {
    expect([0, 1, 2, 4, 8].map((served) => at(100_000, served, 1, 50))).toEqual([1, 1, 2, 4, 8]);
  });

  test('is what the instance served when many requests arrive in the same millisecond', () => {
    expect(at(100_000, 64, 0, 59)).toBe(64);
  });

  test('is never more than 1% of the limit, so an org under 200 a minute reserves one request at a time', () => {
    expect(at(100_000, 5000, 1, 59)).toBe(1000);
    expect(at(600, 100, 1, 59)).toBe(6);
    expect(at(199, 100, 1, 59)).toBe(1);
    expect(at(10, 5, 1, 59)).toBe(1);
  });

  test('late in the minute, is what the instance would serve in the time left at the rate it served so far', () => {
    // 600 served in 40 s, 20 s left: about 300 more.
    expect(at(100_000, 600, 40, 20)).toBe(300);
    // 600 served in 57 s, 3 s left: about 31 more.
    expect(at(100_000, 600, 57, 3)).toBe(31);
  });

  test('in the last moments of the minute, or for an instance serving rarely, is one request', () => {
    expect(at(100_000, 600, 59.99, 0.01)).toBe(1);
    expect(at(100_000, 3, 50, 10)).toBe(1);
  });

  test('is at least one and never more than the instance served so far, whatever its rate', () => {
    const outside: string[] = [];
    for (const served of [1, 3, 17, 250, 999]) {
      for (const [elapsed, left] of [
        [0.001, 59.999],
        [1, 50],
        [30, 30],
        [59, 1],
      ]) {
        const block = at(100_000, served, elapsed, left);
        if (block < 1 || block > served) outside.push(`served ${served}, ${elapsed} s in, ${left} s left: ${block}`);
      }
    }
    expect(outside).toEqual([]);
  });
});
