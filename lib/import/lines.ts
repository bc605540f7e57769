// Physical lines of a file, streamed: never the whole file in memory. Each line keeps its bytes
// exactly as they were (terminator included), so that a rejected line is copied verbatim, and
// knows its 1-based number and the offset just past it (the progress through the file).

import { createReadStream } from 'node:fs';

export interface PhysicalLine {
  number: number;
  /** The line as it was, with its `\n` or `\r\n` (none for a last line without one). */
  text: string;
  /** Byte offset just past the line. */
  end: number;
}

const NEWLINE = 0x0a;

/** Yields every line of the file in order. A `\n` never falls inside a UTF-8 sequence, so splitting bytes there is safe. */
export async function* readLines(path: string): AsyncGenerator<PhysicalLine> {
  let carry: Buffer[] = [];
  let number = 0;
  let offset = 0;
  for await (const chunk of createReadStream(path, { highWaterMark: 256 * 1024 }) as AsyncIterable<Buffer>) {
    let start = 0;
    for (let at = chunk.indexOf(NEWLINE); at !== -1; at = chunk.indexOf(NEWLINE, start)) {
      const piece = chunk.subarray(start, at + 1);
      const bytes = carry.length > 0 ? Buffer.concat([...carry, piece]) : piece;
      carry = [];
      offset += bytes.length;
      yield { number: ++number, text: bytes.toString('utf8'), end: offset };
      start = at + 1;
    }
    if (start < chunk.length) carry.push(chunk.subarray(start));
  }
  if (carry.length > 0) {
    const bytes = Buffer.concat(carry);
    offset += bytes.length;
    yield { number: ++number, text: bytes.toString('utf8'), end: offset };
  }
}

/** The line without its terminator. */
export function withoutTerminator(text: string): string {
  return text.endsWith('\r\n') ? text.slice(0, -2) : text.endsWith('\n') ? text.slice(0, -1) : text;
}
