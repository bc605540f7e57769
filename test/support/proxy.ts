import { connect, createServer, type Server, type Socket } from 'node:net';
import { freePort } from '../../scripts/dynamodbLocal';

// A TCP proxy in front of DynamoDB Local, to make the table unreachable, stalled, slow, or
// lose its answers as a real network and a real DynamoDB can. It listens on 127.0.0.1 on a
// free port; point DYNAMODB_ENDPOINT at `endpoint`. Bytes a client sent are delivered to
// DynamoDB even when the client has given up meanwhile (as a kernel would deliver what it
// had buffered): a request abandoned during a pause or a delay may still be applied.

/** Which requests a control applies to: the operation named by their X-Amz-Target header (e.g. 'UpdateItem'). */
export type Operation = string;

interface Link {
  client: Socket;
  upstream: Socket;
  clientGone: boolean;
  upstreamGone: boolean;
  /** Chunks on their way to DynamoDB (held by a pause or a delay). */
  pendingUp: number;
  /** Chunks on their way to the client. */
  pendingDown: number;
  /** The answer to the request in flight on this connection is to be discarded. */
  dropAnswer: boolean;
}

type Direction = 'up' | 'down';

export class DynamoProxy {
  readonly port: number;
  readonly endpoint: string;
  private server: Server | undefined;
  private readonly links = new Set<Link>();
  private readonly held: Array<{ link: Link; direction: Direction; chunk: Buffer }> = [];
  private paused = false;
  private pauseOnOperation: Operation | undefined;
  private delayMs = 0;
  private drop: { operation?: Operation; times: number } | undefined;
  private readonly seen: Operation[] = [];

  private constructor(
    port: number,
    private readonly target: { host: string; port: number },
  ) {
    this.port = port;
    this.endpoint = `http://127.0.0.1:${port}`;
  }

  /** Starts a proxy to `upstreamEndpoint` (DynamoDB Local's URL). */
  static async start(upstreamEndpoint: string): Promise<DynamoProxy> {
    const url = new URL(upstreamEndpoint);
    const proxy = new DynamoProxy(await freePort(), { host: url.hostname, port: Number(url.port) });
    await proxy.listen();
    return proxy;
  }

  /** Stops forwarding bytes in both directions and buffers them, as `kill -STOP` of DynamoDB would. */
  pause(): void {
    this.paused = true;
  }

  /** Pauses (as `pause`) as soon as a request for `operation` arrives, before DynamoDB gets it. */
  pauseOn(operation: Operation): void {
    this.pauseOnOperation = operation;
  }

  /** Forwards everything buffered by a pause, in order, and goes on forwarding. */
  resume(): void {
    this.paused = false;
    this.pauseOnOperation = undefined;
    for (const { link, direction, chunk } of this.held.splice(0)) this.deliver(link, direction, chunk, true);
  }

  /** Closes the listener (new connections are refused) and destroys open ones, as a killed DynamoDB. */
  refuse(): void {
    const server = this.server;
    this.server = undefined;
    server?.close();
    for (const link of this.links) this.destroyLink(link, true);
  }

  /** Holds each chunk, in both directions, `ms` before forwarding it (0: no delay). */
  delay(ms: number): void {
    this.delayMs = ms;
  }

  /** Forwards requests but discards DynamoDB's answers and resets the client (a lost commit answer): the next `times` of `operation`, or all. */
  dropResponses(options: { operation?: Operation; times?: number } = {}): void {
    this.drop = { operation: options.operation, times: options.times ?? Infinity };
  }

  /** How many requests for `operation` (every request when omitted) clients sent through the proxy. */
  requests(operation?: Operation): number {
    return operation === undefined ? this.seen.length : this.seen.filter((o) => o === operation).length;
  }

  /** Undoes every control: forwards what a pause held, no delay, no drops, listens again. */
  async restore(): Promise<void> {
    this.delayMs = 0;
    this.drop = undefined;
    this.resume();
    if (!this.server) await this.listen();
  }

  /** Stops listening and destroys every connection. */
  async close(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    this.held.length = 0;
    for (const link of this.links) this.destroyLink(link, false);
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private listen(): Promise<void> {
    const server = createServer((client) => this.accept(client));
    this.server = server;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
  }

  private accept(client: Socket): void {
    const upstream = connect({ host: this.target.host, port: this.target.port });
    const link: Link = { client, upstream, clientGone: false, upstreamGone: false, pendingUp: 0, pendingDown: 0, dropAnswer: false };
    this.links.add(link);
    client.setNoDelay(true);
    upstream.setNoDelay(true);
    client.on('data', (chunk: Buffer) => {
      const operation = /x-amz-target:\s*DynamoDB_\d+\.(\w+)/i.exec(chunk.toString('latin1'))?.[1];
      if (operation) {
        this.seen.push(operation);
        if (this.pauseOnOperation === operation) {
          this.pauseOnOperation = undefined;
          this.paused = true;
        }
        if (this.drop && this.drop.times > 0 && (this.drop.operation === undefined || this.drop.operation === operation)) {
          this.drop.times -= 1;
          link.dropAnswer = true;
        }
      }
      this.forward(link, 'up', chunk);
    });
    upstream.on('data', (chunk: Buffer) => this.forward(link, 'down', chunk));
    client.on('error', () => undefined);
    upstream.on('error', () => undefined);
    client.on('close', () => {
      link.clientGone = true;
      // What the client sent is still delivered; the connection to DynamoDB ends after its answer.
      if (link.pendingUp === 0) this.finishUpstream(link);
    });
    upstream.on('close', () => {
      link.upstreamGone = true;
      if (link.pendingDown === 0) this.destroyLink(link, false);
    });
  }

  private forward(link: Link, direction: Direction, chunk: Buffer): void {
    if (direction === 'up') link.pendingUp += 1;
    else link.pendingDown += 1;
    if (this.delayMs > 0) setTimeout(() => this.deliver(link, direction, chunk, false), this.delayMs).unref();
    else this.deliver(link, direction, chunk, false);
  }

  private deliver(link: Link, direction: Direction, chunk: Buffer, released: boolean): void {
    if (this.paused && !released) {
      this.held.push({ link, direction, chunk });
      return;
    }
    if (direction === 'up') {
      link.pendingUp -= 1;
      if (!link.upstream.destroyed) link.upstream.write(chunk);
      if (link.clientGone && link.pendingUp === 0) this.finishUpstream(link);
      return;
    }
    link.pendingDown -= 1;
    if (link.dropAnswer) {
      // DynamoDB answered (so it applied the request): the answer is lost, the connection reset.
      link.dropAnswer = false;
      this.destroyLink(link, true);
      return;
    }
    if (!link.client.destroyed) link.client.write(chunk);
    if (link.upstreamGone && link.pendingDown === 0) this.destroyLink(link, false);
  }

  /** The client is gone and everything it sent was delivered: close once DynamoDB answers (or soon). */
  private finishUpstream(link: Link): void {
    if (link.upstream.destroyed) return;
    link.upstream.once('data', () => link.upstream.destroy());
    setTimeout(() => link.upstream.destroy(), 3000).unref();
  }

  private destroyLink(link: Link, reset: boolean): void {
    this.links.delete(link);
    if (reset && !link.client.destroyed) link.client.resetAndDestroy();
    else link.client.destroy();
    link.upstream.destroy();
  }
}
