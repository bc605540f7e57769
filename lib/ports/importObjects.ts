// The objects of an import at scale: the members' JSON Lines file under imports/, the plan under
// plans/ (lib/import/plan.ts). The import bucket (S3) in AWS; a directory locally and in tests,
// laid out like the bucket (<dir>/imports/<file>, <dir>/plans/<job>/<run>.jsonl).

import { createReadStream } from 'node:fs';
import { mkdir, stat, writeFile } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { awsRegion } from '../config';

export interface ImportObjects {
  /** The object's bytes, streamed, and its version tag (an ETag in S3). */
  read(key: string): Promise<{ chunks: AsyncIterable<Uint8Array>; tag: string }>;
  /**
   * Bytes [start, end) of the object, streamed. With `tag`, an object changed since it was
   * planned is refused (ObjectChangedError) rather than read at ranges that no longer fall on lines.
   */
  readRange(key: string, start: number, end: number, tag?: string): AsyncIterable<Uint8Array>;
  write(key: string, text: string): Promise<void>;
}

export class ObjectChangedError extends Error {
  constructor(key: string) {
    super(`${key} changed since the import was planned: start the run again`);
    this.name = 'ObjectChangedError';
  }
}

export class S3ImportObjects implements ImportObjects {
  constructor(
    private readonly bucket: string,
    private readonly client = new S3Client({ region: awsRegion() }),
  ) {}

  async read(key: string) {
    const object = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
    return { chunks: object.Body as AsyncIterable<Uint8Array>, tag: object.ETag ?? '' };
  }

  async *readRange(key: string, start: number, end: number, tag?: string): AsyncIterable<Uint8Array> {
    if (end <= start) return;
    const object = await this.client
      .send(new GetObjectCommand({ Bucket: this.bucket, Key: key, Range: `bytes=${start}-${end - 1}`, IfMatch: tag || undefined }))
      .catch((error: Error & { $metadata?: { httpStatusCode?: number } }) => {
        throw error.$metadata?.httpStatusCode === 412 ? new ObjectChangedError(key) : error;
      });
    yield* object.Body as AsyncIterable<Uint8Array>;
  }

  async write(key: string, text: string) {
    await this.client.send(new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: text, ContentType: 'application/jsonl' }));
  }
}

/** A directory laid out like the bucket; the tag is the file's size and modification time. */
export class DirectoryImportObjects implements ImportObjects {
  private readonly root: string;

  constructor(root: string) {
    this.root = resolve(root);
  }

  async read(key: string) {
    const path = this.pathOf(key);
    return { chunks: createReadStream(path, { highWaterMark: 256 * 1024 }) as AsyncIterable<Buffer>, tag: await this.tagOf(path) };
  }

  async *readRange(key: string, start: number, end: number, tag?: string): AsyncIterable<Uint8Array> {
    if (end <= start) return;
    const path = this.pathOf(key);
    if (tag !== undefined && tag !== (await this.tagOf(path))) throw new ObjectChangedError(key);
    yield* createReadStream(path, { start, end: end - 1, highWaterMark: 256 * 1024 }) as AsyncIterable<Buffer>;
  }

  async write(key: string, text: string) {
    const path = this.pathOf(key);
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, text);
  }

  private pathOf(key: string): string {
    const path = resolve(join(this.root, key));
    if (!path.startsWith(this.root + sep)) throw new Error(`${key} is not a key of the import objects`);
    return path;
  }

  private async tagOf(path: string): Promise<string> {
    const info = await stat(path);
    return `${info.size}-${info.mtimeMs}`;
  }
}
