'use strict';

/**
 * serverless-offline-dynamodb-streams (the `npm start` publisher's trigger), reading each shard
 * one page at a time: the next GetRecords is sent only once the publisher has handled the page
 * before it, as Lambda does for a shard with a parallelization factor of 1.
 *
 * Why a wrapper: the plugin reads through `dynamodb-streams-readable`, whose streams read ahead
 * (high-water marks of 100 pages in its readable and in its transform, 16 in the plugin's
 * writable: about 316 pages of 100 records, all the table's items before filtering). When the
 * publisher falls behind an import, that read-ahead fills the offline process with up to some
 * 31,600 stream records and their old and new images, hundreds of MB for small customers and
 * more for large ones; it also waits 500 ms before handing over every page, which caps the
 * publisher at 200 records a second however fast it is. Neither has an option, so the reader is
 * replaced for the plugin alone: the backlog stays in the table's stream, where it costs nothing.
 */
const Module = require('node:module');
const { dirname } = require('node:path');
const { setTimeout: sleep } = require('node:timers/promises');

const PLUGIN = 'serverless-offline-dynamodb-streams';
const READER = 'dynamodb-streams-readable';
/** Between polls of a shard with nothing new (the plugin's own default). */
const IDLE_POLL_MS = 500;
/** Before reading again after a failed call (DynamoDB Local restarting or overloaded). */
const RETRY_MS = 1000;

/**
 * One shard, read page by page. It has the surface the plugin uses of the stream it replaces:
 * `pipe(writable)`, then `resume()` to start and `pause()` to stop. A page is written with a
 * callback, which the plugin's writable calls once the handler (and its retries) are done.
 */
class ShardReader {
  constructor(client, arn, options) {
    this.client = client;
    this.arn = arn;
    this.options = options;
    this.target = undefined;
    this.running = false;
    this.loop = undefined;
    this.iterator = undefined;
    /** The last record handed over: where a lost iterator is reopened. */
    this.lastSequenceNumber = undefined;
  }

  pipe(target) {
    this.target = target;
    return target;
  }

  resume() {
    this.running = true;
    this.loop ??= this.read().finally(() => (this.loop = undefined));
    return this;
  }

  pause() {
    this.running = false;
    return this;
  }

  async read() {
    while (this.running) {
      let page;
      try {
        this.iterator ??= await this.openIterator();
        page = await this.call('getRecords', { ShardIterator: this.iterator, Limit: this.options.limit });
      } catch (error) {
        // An expired or trimmed iterator is reopened where the last page ended; anything else is retried as it was.
        if (error.name === 'ExpiredIteratorException' || error.name === 'TrimmedDataAccessException') this.iterator = undefined;
        console.warn(`${PLUGIN}: reading shard ${this.options.shardId} failed (${error.name}: ${error.message}); reading again`);
        await sleep(RETRY_MS);
        continue;
      }
      this.iterator = page.NextShardIterator;
      if (page.Records.length > 0) {
        await this.handOver(page.Records);
        this.lastSequenceNumber = page.Records[page.Records.length - 1].dynamodb.SequenceNumber;
      }
      // A closed shard has no next iterator: the plugin reads only the shards there were at start.
      if (!this.iterator) return;
      if (page.Records.length === 0) await sleep(this.options.readInterval || IDLE_POLL_MS);
    }
  }

  handOver(records) {
    return new Promise((resolve, reject) => this.target.write(records, (error) => (error ? reject(error) : resolve())));
  }

  async openIterator() {
    const { shardId, iterator, startAt, startAfter } = this.options;
    const after = this.lastSequenceNumber ?? startAfter;
    const position = after
      ? { ShardIteratorType: 'AFTER_SEQUENCE_NUMBER', SequenceNumber: after }
      : iterator
        ? { ShardIteratorType: iterator }
        : startAt
          ? { ShardIteratorType: 'AT_SEQUENCE_NUMBER', SequenceNumber: startAt }
          : { ShardIteratorType: 'TRIM_HORIZON' };
    const { ShardIterator } = await this.call('getShardIterator', { StreamArn: this.arn, ShardId: shardId, ...position });
    return ShardIterator;
  }

  /** The plugin hands over a client of v2-style callback methods. */
  call(method, params) {
    return new Promise((resolve, reject) => this.client[method](params, (error, data) => (error ? reject(error) : resolve(data))));
  }
}

function shardReader(client, arn, options) {
  if (!options?.shardId) throw new Error(`${PLUGIN}: expected to read one named shard`);
  return new ShardReader(client, arn, options);
}

// The plugin's own copy of the reader, replaced before the plugin first loads it.
const pluginDir = dirname(require.resolve(`${PLUGIN}/package.json`));
const readerPath = require.resolve(READER, { paths: [pluginDir] });
const reader = new Module(readerPath, module);
reader.filename = readerPath;
reader.exports = shardReader;
reader.loaded = true;
require.cache[readerPath] = reader;

class LocalStream extends require(PLUGIN) {}

module.exports = LocalStream;
module.exports.ShardReader = ShardReader;
