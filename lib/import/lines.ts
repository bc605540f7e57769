// Physical lines of a file, streamed: never the whole file in memory. Each line keeps its bytes
// exactly as they were (terminator included), so that a rejected line is copied verbatim, and
// knows its 1-based number and the offset just past it (the progress through the file).
//
// Bytes are never guessed at: each line is decoded as UTF-8 on its own with a fatal decoder, and
// a line that is not valid UTF-8 has no text at all. Decoding with replacement characters would
// turn two different undecodable bytes into the same U+FFFD, and two members into one.

import { createReadStream } from 'node:fs';
import { TextDecoder } from 'node:util';

export interface PhysicalLine {
  number: number;
  /** The line's bytes as they were, with its `\n` or `\r\n` (none for a last line without one). */
  bytes: Buffer;
  /** The line decoded, terminator included; undefined when its bytes are not valid UTF-8. */
  text: string | undefined;
  /** Byte offset just past the line. */
  end: number;
}

const NEWLINE = 0x0a;
const BOM = Buffer.from([0xef, 0xbb, 0xbf]);

/** Yields every line of the file in order. A `\n` never falls inside a UTF-8 sequence, so splitting bytes there is safe. */
export function readLines(path: string): AsyncGenerator<PhysicalLine> {
  return linesOf(createReadStream(path, { highWaterMark: 256 * 1024 }) as AsyncIterable<Buffer>);
}

/**
 * The lines of a stream of bytes: a file, or a byte range of one (an import batch of the
 * Distributed Map, which starts at a line's first byte). `from` is where the bytes start in the
 * file: the number of their first line and its offset, so that numbers and offsets are the file's.
 */
export async function* linesOf(chunks: AsyncIterable<Buffer | Uint8Array>, from = { number: 1, offset: 0 }): AsyncGenerator<PhysicalLine> {
  // ignoreBOM keeps a U+FEFF where it is: only the file's first bytes may be a byte order mark (startsWithBom).
  const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
  const lineOf = (bytes: Buffer, number: number, end: number): PhysicalLine => ({ number, bytes, text: decode(decoder, bytes), end });
  let carry: Buffer[] = [];
  let number = from.number - 1;
  let offset = from.offset;
  for await (const piece of chunks) {
    const chunk = Buffer.isBuffer(piece) ? piece : Buffer.from(piece.buffer, piece.byteOffset, piece.byteLength);
    let start = 0;
    for (let at = chunk.indexOf(NEWLINE); at !== -1; at = chunk.indexOf(NEWLINE, start)) {
      const part = chunk.subarray(start, at + 1);
      // A copy: a slice would keep its whole chunk alive while the line waits for its result.
      const bytes = carry.length > 0 ? Buffer.concat([...carry, part]) : Buffer.from(part);
      carry = [];
      offset += bytes.length;
      yield lineOf(bytes, ++number, offset);
      start = at + 1;
    }
    if (start < chunk.length) carry.push(chunk.subarray(start));
  }
  if (carry.length > 0) {
    const bytes = Buffer.concat(carry);
    offset += bytes.length;
    yield lineOf(bytes, ++number, offset);
  }
}

function decode(decoder: TextDecoder, bytes: Buffer): string | undefined {
  try {
    return decoder.decode(bytes);
  } catch {
    return undefined;
  }
}

/** Whether this is the file's first line and it starts with a UTF-8 byte order mark (to be ignored). */
export function startsWithBom(line: PhysicalLine): boolean {
  return line.number === 1 && line.bytes.subarray(0, 3).equals(BOM);
}

/** The line's text without a byte order mark at the start of the file. */
export function withoutBom(line: PhysicalLine, text: string): string {
  return startsWithBom(line) ? text.replace(/^\uFEFF/, '') : text;
}

/** The line without its terminator. */
export function withoutTerminator(text: string): string {
  return text.endsWith('\r\n') ? text.slice(0, -2) : text.endsWith('\n') ? text.slice(0, -1) : text;
}

/** Where the first byte sequence that is not UTF-8 starts in the line (a 0-based byte offset), for the reason of its rejection. */
export function firstInvalidByte(bytes: Buffer): number {
  const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
  // Byte by byte in stream mode: the decoder throws at the first byte no sequence can take, or
  // at the end for a sequence left unfinished.
  let at = 0;
  try {
    for (; at < bytes.length; at++) decoder.decode(bytes.subarray(at, at + 1), { stream: true });
    decoder.decode();
  } catch {
    // The bad sequence starts where the longest whole prefix ends: at most 3 bytes back.
  }
  const whole = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
  for (let start = Math.min(at, bytes.length); start > at - 4 && start > 0; start--) {
    if (decode(whole, bytes.subarray(0, start)) !== undefined) return start;
  }
  return 0;
}
