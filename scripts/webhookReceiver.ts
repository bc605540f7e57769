import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Webhook } from 'standardwebhooks';
import type { CustomerEvent } from '../lib/events/event';
import { problemOfWebhookSecret, type OrgFile } from '../lib/org';
import { runCommand, UsageError } from './cli';

// A webhook receiver to watch deliveries with (see USAGE): it checks each request's Standard
// Webhooks signature with the standardwebhooks package, as a brand's receiver would, prints one
// line per delivery, and answers as told, so that retries and a 410 can be seen from the sender.

const USAGE = `usage: npm run webhook-receiver -- [options]

Receives webhooks on http://127.0.0.1:<port>/ (any path), checks each signature
(Standard Webhooks: webhook-id, webhook-timestamp, webhook-signature) and prints a line:

  <time> <webhook-id> <type> customer <id> org <org> origin <origin> signature ok|INVALID answer <status>

A delivery whose signature does not verify is answered 401.

options:
  --port <port>        the port on 127.0.0.1 (default 4500, the demo subscription's)
  --secret <whsec_...> a secret to verify with; repeat it for several (a rotation).
                       Default: the secret of org 100's subscription demo-receiver in
                       config/orgs/demo.json
  --answer <status>    200 (default), 500 (the sender retries) or 410 (the sender disables the
                       subscription)
  --fail-first <n>     answer 500 to the first n deliveries of each webhook-id, then --answer
  -v, --verbose        print each event's data too
  -h, --help           this text

Ctrl-C stops it. Exit status 2 for bad flags, 1 when the port cannot be listened on.

example: npm run webhook-receiver -- --fail-first 1`;

const ANSWERS = [200, 500, 410] as const;
/** Events are at most 256 KiB; anything much larger is not one of ours. */
const MAX_BODY_BYTES = 1024 * 1024;
const DEMO_ORGS = join(__dirname, '..', 'config', 'orgs', 'demo.json');

interface Flags {
  port: number;
  secrets: string[];
  answer: (typeof ANSWERS)[number];
  failFirst: number;
  verbose: boolean;
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
  const port = wholeNumber(values.port ?? '4500', '--port');
  if (port < 1 || port > 65535) throw new UsageError(`--port must be 1 to 65535, not ${values.port}`);
  const answer = Number(values.answer ?? '200');
  if (!(ANSWERS as readonly number[]).includes(answer) || !/^\d+$/.test(values.answer ?? '200')) {
    throw new UsageError(`--answer must be 200, 500 or 410, not ${values.answer}`);
  }
  const secrets = values.secret ?? [demoSecret()];
  secrets.forEach((secret, i) => {
    const problem = problemOfWebhookSecret(secret);
    if (problem) throw new UsageError(`--secret ${secrets.length > 1 ? `number ${i + 1} ` : ''}${problem}`);
  });
  return {
    port,
    secrets,
    answer: answer as Flags['answer'],
    failFirst: wholeNumber(values['fail-first'] ?? '0', '--fail-first'),
    verbose: values.verbose ?? false,
  };
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

function serve(flags: Flags): Promise<void> {
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
      const ok = verifies(flags.secrets, body, req.headers);
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
      const secrets = flags.secrets.length === 1 ? '1 secret' : `${flags.secrets.length} secrets`;
      const failing = flags.failFirst > 0 ? `500 to the first ${flags.failFirst} of each webhook-id, then ` : '';
      console.log(
        `webhook receiver on http://127.0.0.1:${flags.port}/ (any path), verifying with ${secrets}, answering ${failing}${flags.answer}`,
      );
      const stop = () => {
        server.close(() => resolve());
        server.closeAllConnections();
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
  });
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
  await serve(flags);
  return 0;
}

if (require.main === module) {
  runCommand('webhook-receiver', () => main(process.argv.slice(2)));
}
