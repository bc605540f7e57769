import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Webhook } from 'standardwebhooks';
import type { CustomerEvent } from '../lib/events/event';
import { problemOfWebhookSecret, type OrgFile, type WebhookSubscription } from '../lib/org';
import { getOrgConfig } from '../lib/store/orgs';
import { holdLocalTarget, LOCAL_TARGET_LEASE_SECONDS, LocalTargetHeldError, releaseLocalTarget } from '../lib/store/webhookSubscriptions';
import { runCommand, UsageError } from './cli';
import { StageError, stageNames, useStage } from './stage';

// A webhook receiver to watch deliveries with (see USAGE): it checks each request's Standard
// Webhooks signature with the standardwebhooks package, as a brand's receiver would, prints one
// line per delivery, and answers as told, so that retries and a 410 can be seen from the sender.
//
// While it runs, the local stack delivers the org's subscription to it, whatever port it is on:
// it holds the subscription's local target in DynamoDB Local (lib/store/webhookSubscriptions.ts),
// which the local sender reads before each delivery, and deletes it when it stops. With
// --forward-to it holds a target of any URL instead and receives nothing itself. Only the local
// stage: useStage('local') reaches nothing but a DynamoDB Local on this machine, and the sender
// in AWS never reads such a target.

const USAGE = `usage: npm run webhook-receiver -- [options]
       npm run webhook-receiver -- --forward-to <url> [--org <id>] [--subscription <id>]

Receives webhooks on http://127.0.0.1:<port>/ (any path), checks each signature
(Standard Webhooks: webhook-id, webhook-timestamp, webhook-signature) and prints a line:

  <time> <webhook-id> <type> customer <id> org <org> origin <origin> signature ok|INVALID answer <status>

A delivery whose signature does not verify is answered 401.

While it runs, the local stack (\`npm start\`) delivers org 100's subscription demo-receiver
here, on whatever port: at once, for the next delivery, and back to the org file's URL when it
stops. Without a running \`npm start\` it only listens. Local stage only.

options:
  --port <port>        the port on 127.0.0.1 (default 4500)
  --org <id>           the org whose subscription comes here (default 100)
  --subscription <id>  that subscription (default demo-receiver)
  --forward-to <url>   receive nothing here: the local stack delivers the subscription to <url>
                       (http or https) until Ctrl-C, signed with the subscription's secrets
  --listen-only        leave the subscriptions alone: receive only what is sent here
  --stage local        the only stage whose deliveries can be redirected (the default)
  --secret <whsec_...> a secret to verify with; repeat it for several (a rotation).
                       Default: the subscription's secrets in the local table, or without
                       \`npm start\` org 100's demo-receiver secret in config/orgs/demo.json
  --answer <status>    200 (default), 500 (the sender retries) or 410 (the sender disables the
                       subscription at this receiver's URL)
  --fail-first <n>     answer 500 to the first n deliveries of each webhook-id, then --answer
  -v, --verbose        print each event's data too
  -h, --help           this text

Ctrl-C stops it. Exit status 2 for bad flags, 1 when the port cannot be listened on or the
subscription cannot be redirected (another receiver holds it, or it is not in the local table).

examples: npm run webhook-receiver -- --port 4600
          npm run webhook-receiver -- --forward-to http://127.0.0.1:9000/hooks`;

const ANSWERS = [200, 500, 410] as const;
/** Events are at most 256 KiB; anything much larger is not one of ours. */
const MAX_BODY_BYTES = 1024 * 1024;
const DEMO_ORGS = join(__dirname, '..', 'config', 'orgs', 'demo.json');

/** Renewed this often, well within the lease, so that a slow renewal never lets it lapse. */
const RENEW_EVERY_MS = (LOCAL_TARGET_LEASE_SECONDS * 1000) / 3;

interface Flags {
  port: number;
  /** Unset: the subscription's own (or the demo file's). */
  secrets?: string[];
  answer: (typeof ANSWERS)[number];
  failFirst: number;
  verbose: boolean;
  orgId: number;
  subscriptionId: string;
  forwardTo?: string;
  listenOnly: boolean;
}

function readFlags(argv: string[]): Flags | 'help' {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        port: { type: 'string' },
        org: { type: 'string' },
        subscription: { type: 'string' },
        'forward-to': { type: 'string' },
        'listen-only': { type: 'boolean' },
        stage: { type: 'string' },
        secret: { type: 'string', multiple: true },
        answer: { type: 'string' },
        'fail-first': { type: 'string' },
        verbose: { type: 'boolean', short: 'v' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (error) {
    // node:util's own message, its first sentence: "Unknown option '--x'".
    throw new UsageError((error as Error).message.split(/\n|\. /)[0]);
  }
  const { values } = parsed;
  if (values.help) return 'help';
  if (values.stage !== undefined && values.stage !== 'local') {
    if (!stageNames().includes(values.stage)) throw new UsageError(`unknown stage ${values.stage}; one of ${stageNames().join(', ')}`);
    throw new UsageError(`only the local stage's deliveries can be redirected; stage ${values.stage} delivers where its org file says`);
  }
  const forwardTo = values['forward-to'];
  if (forwardTo !== undefined) {
    const receiving = ['port', 'secret', 'answer', 'fail-first', 'verbose', 'listen-only'].filter((flag) => flag in values);
    if (receiving.length > 0) throw new UsageError(`--forward-to receives nothing here: it takes no --${receiving[0]}`);
    const problem = problemOfForwardUrl(forwardTo);
    if (problem) throw new UsageError(`--forward-to ${problem}`);
  }
  const subscriptionId = values.subscription ?? 'demo-receiver';
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(subscriptionId)) {
    throw new UsageError(`--subscription must be 1 to 64 of A-Z a-z 0-9 _ -, not ${JSON.stringify(subscriptionId)}`);
  }
  const port = wholeNumber(values.port ?? '4500', '--port');
  if (port < 1 || port > 65535) throw new UsageError(`--port must be 1 to 65535, not ${values.port}`);
  const answer = Number(values.answer ?? '200');
  if (!(ANSWERS as readonly number[]).includes(answer) || !/^\d+$/.test(values.answer ?? '200')) {
    throw new UsageError(`--answer must be 200, 500 or 410, not ${values.answer}`);
  }
  const secrets = values.secret;
  secrets?.forEach((secret, i) => {
    const problem = problemOfWebhookSecret(secret);
    if (problem) throw new UsageError(`--secret ${secrets.length > 1 ? `number ${i + 1} ` : ''}${problem}`);
  });
  return {
    port,
    secrets,
    answer: answer as Flags['answer'],
    failFirst: wholeNumber(values['fail-first'] ?? '0', '--fail-first'),
    verbose: values.verbose ?? false,
    orgId: wholeNumber(values.org ?? '100', '--org'),
    subscriptionId,
    forwardTo,
    listenOnly: values['listen-only'] ?? false,
  };
}

/** What is wrong with a URL to forward to (the local sender takes http and https), or undefined. */
function problemOfForwardUrl(text: string): string | undefined {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return `must be an http or https URL, not ${JSON.stringify(text)}`;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return `must be an http or https URL, not ${JSON.stringify(text)}`;
  if (url.username || url.password) return 'must not carry credentials';
  return undefined;
}

function wholeNumber(text: string, flag: string): number {
  if (!/^\d{1,9}$/.test(text)) throw new UsageError(`${flag} must be a whole number, not ${JSON.stringify(text)}`);
  return Number(text);
}

/** The demo subscription's secret: org 100's demo-receiver in config/orgs/demo.json. */
function demoSecret(): string {
  const orgs = JSON.parse(readFileSync(DEMO_ORGS, 'utf8')) as OrgFile[];
  const secret = orgs.find((org) => org.orgId === 100)?.webhooks?.find((s) => s.id === 'demo-receiver')?.secrets[0];
  if (!secret) throw new UsageError(`no demo secret in ${DEMO_ORGS} (org 100, subscription demo-receiver): give --secret`);
  return secret;
}

/** Whether any of the secrets verifies the request (the sender signs with each of its secrets). */
function verifies(secrets: string[], body: string, headers: IncomingMessage['headers']): boolean {
  const flat: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) if (typeof value === 'string') flat[name] = value;
  return secrets.some((secret) => {
    try {
      new Webhook(secret).verify(body, flat);
      return true;
    } catch {
      return false;
    }
  });
}

function lineOf(headers: IncomingMessage['headers'], event: Partial<CustomerEvent> | undefined, ok: boolean, status: number): string {
  const id = headers['webhook-id'] ?? '-';
  const about = event
    ? `${event.type ?? '?'} customer ${event.customerId ?? '?'} org ${event.orgId ?? '?'} origin ${event.origin ?? '?'}`
    : 'not a JSON event';
  return `${new Date().toISOString()} ${id} ${about} signature ${ok ? 'ok' : 'INVALID'} answer ${status}`;
}

function serve(flags: Flags, secrets: string[]): Promise<Server> {
  const seen = new Map<string, number>();
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) chunks.push(chunk);
    });
    req.on('end', () => {
      if (req.method !== 'POST') return answer(res, 405);
      if (size > MAX_BODY_BYTES) return answer(res, 413);
      const body = Buffer.concat(chunks).toString('utf8');
      const ok = verifies(secrets, body, req.headers);
      let event: Partial<CustomerEvent> | undefined;
      try {
        event = JSON.parse(body) as Partial<CustomerEvent>;
      } catch {
        event = undefined;
      }
      let status: number = flags.answer;
      if (!ok) status = 401;
      else {
        const id = String(req.headers['webhook-id']);
        const count = (seen.get(id) ?? 0) + 1;
        seen.set(id, count);
        if (count <= flags.failFirst) status = 500;
      }
      console.log(lineOf(req.headers, event, ok, status));
      if (flags.verbose && event) console.log(`  data ${JSON.stringify(event.data)}`);
      answer(res, status);
    });
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(flags.port, '127.0.0.1', () => {
      const verifying = secrets.length === 1 ? '1 secret' : `${secrets.length} secrets`;
      const failing = flags.failFirst > 0 ? `500 to the first ${flags.failFirst} of each webhook-id, then ` : '';
      console.log(
        `webhook receiver on http://127.0.0.1:${flags.port}/ (any path), verifying with ${verifying}, answering ${failing}${flags.answer}`,
      );
      resolve(server);
    });
  });
}

function close(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

/** Resolves at Ctrl-C (SIGINT) or SIGTERM. */
function untilStopped(): Promise<void> {
  return new Promise((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
}

/** The local stack's subscription, or undefined (and why) when there is no local stack to redirect. */
async function localSubscription(flags: Flags): Promise<{ subscription: WebhookSubscription; table: string } | { absent: string }> {
  let table: string;
  try {
    ({ table } = useStage('local'));
  } catch (error) {
    if (error instanceof StageError) return { absent: error.message };
    throw error;
  }
  let config;
  try {
    config = await getOrgConfig(flags.orgId);
  } catch (error) {
    if ((error as { name?: string }).name === 'ResourceNotFoundException') {
      throw new Error(`the local stage has no table ${table}: start it with \`npm start\``);
    }
    throw error;
  }
  const subscription = config?.webhooks?.find((s) => s.id === flags.subscriptionId);
  if (!subscription) {
    throw new Error(
      `org ${flags.orgId} has no subscription ${flags.subscriptionId} in ${table}: load its org file with \`npm run load-orgs -- --stage local FILE\``,
    );
  }
  return { subscription, table };
}

/**
 * Holds the subscription's local target at `url` until `stopped`, renewing it, then deletes it.
 * Resolves once it is held, with what releases it.
 */
async function holdTarget(flags: Flags, subscription: WebhookSubscription, url: string): Promise<() => Promise<void>> {
  const target = { orgId: flags.orgId, subscriptionId: subscription.id, url, owner: randomUUID(), pid: process.pid };
  await holdLocalTarget(target);
  let lapsed = false;
  const renewal = setInterval(() => {
    holdLocalTarget(target).then(
      () => (lapsed = false),
      (error: Error) => {
        // DynamoDB Local stopped, or another receiver took the lapsed target: said once.
        if (!lapsed) console.error(`webhook-receiver: could not renew the redirect (${error.message}); deliveries may go elsewhere`);
        lapsed = true;
      },
    );
  }, RENEW_EVERY_MS);
  return async () => {
    clearInterval(renewal);
    await releaseLocalTarget(target.orgId, target.subscriptionId, target.owner);
    console.log(`org ${flags.orgId} subscription ${subscription.id} delivers to ${subscription.url} again`);
  };
}

function heldProblem(error: unknown): never {
  if (error instanceof LocalTargetHeldError) throw new Error(error.message);
  throw error;
}

async function forward(flags: Flags): Promise<number> {
  const found = await localSubscription(flags);
  if ('absent' in found) throw new UsageError(found.absent);
  const release = await holdTarget(flags, found.subscription, flags.forwardTo!).catch(heldProblem);
  console.log(
    `org ${flags.orgId} subscription ${found.subscription.id} of the local stack (${found.table}) delivers to ${flags.forwardTo} until Ctrl-C`,
  );
  await untilStopped();
  await release();
  return 0;
}

async function receive(flags: Flags): Promise<number> {
  const found = flags.listenOnly ? { absent: '' } : await localSubscription(flags);
  const secrets = flags.secrets ?? ('subscription' in found ? found.subscription.secrets : [demoSecret()]);
  const stopped = untilStopped();
  const server = await serve(flags, secrets);
  let release: (() => Promise<void>) | undefined;
  if ('subscription' in found) {
    try {
      release = await holdTarget(flags, found.subscription, `http://127.0.0.1:${flags.port}/webhooks`);
    } catch (error) {
      await close(server);
      heldProblem(error);
    }
    console.log(
      `org ${flags.orgId} subscription ${found.subscription.id} of the local stack (${found.table}) delivers here until this stops`,
    );
  } else if (found.absent) {
    console.log(`not redirecting org ${flags.orgId}'s subscription: ${found.absent}, then run this again`);
  }
  await stopped;
  await close(server);
  await release?.();
  return 0;
}

function answer(res: ServerResponse, status: number): void {
  res.writeHead(status, { 'content-type': 'text/plain', connection: 'close' });
  res.end(status === 401 ? 'invalid signature\n' : '');
}

async function main(argv: string[]): Promise<number> {
  const flags = readFlags(argv);
  if (flags === 'help') {
    console.log(USAGE);
    return 0;
  }
  return flags.forwardTo === undefined ? receive(flags) : forward(flags);
}

if (require.main === module) {
  runCommand('webhook-receiver', () => main(process.argv.slice(2)));
}
