import {
  authorization,
  checkLine,
  checkLookup,
  checkOpenApi,
  checkRead,
  checkRegistered,
  checkReplay,
  failedVerdict,
  lookupPath,
  newRun,
  okVerdict,
  readFlags,
  registrationBody,
  transportFailure,
  type Check,
  type Flags,
  type Registered,
  type Reply,
  type Step,
} from './smokeChecks';
import { runCommand } from './cli';

// A post-deploy check of a stage through its HTTP API, as a till meets it:
//
//   npm run smoke -- --url <base url> --till <code> --password <password> [--source S] [--verbose]
//
// It reads GET /v2/openapi.json, registers one test customer (endPointsEnabled set, a unique
// email at example.com, an Idempotency-Key), repeats that request to see it replayed, looks the
// customer up by the email and reads it back. One line says OK or FAILED and at which step; exit
// 0 when every check passed, 1 when one failed, 2 for bad flags. scripts/smokeChecks.ts holds the
// checks; this file only sends the requests.

const USAGE = `usage: npm run smoke -- --url <base url> --till <code> --password <password> [options]

Checks a deployed stage through its API: GET /v2/openapi.json answers; POST /v2/customers
registers a test customer (endPointsEnabled TIMELINE_ENDPOINT, the email
smoke+<time>-<random>@example.com) with 200, createdId, no warnings and X-RateLimit-* headers;
the same request with the same Idempotency-Key is replayed (same status and body,
Idempotent-Replayed: true); GET /v2/customers/lookup finds the customer by the email; and
GET /v2/customers/{id} reads it back, marked as a test customer. Each run leaves one test
customer in the till's org.

options:
  --url <base url>         the API's base URL, routes at <url>/v2/...: http://localhost:3000 for
                           npm start, https://<api id>.execute-api.<region>.amazonaws.com/<stage>
                           or the stage's custom domain when deployed
  --till <code>            the till's username (its org gets the test customer)
  --password <password>    the till's password (sent as its md5 hex, as Capillary clients do)
  --password-md5 <hex>     the md5 hex of the password, instead of --password
                           (without either: the environment's SMOKE_PASSWORD, which keeps the
                           password out of the command line that npm run echoes)
  --source <SOURCE>        the test customer's source (default INSTORE); must be enabled for the org
  --account-id <id>        the source's account, for FACEBOOK, WECHAT, LINE, MOBILE_APP, WEB_ENGAGE
  --timeout <seconds>      per request (default 15)
  -v, --verbose            one line per check
  -h, --help               this text

Exit status: 0 when every check passed, 1 when one failed (the line says which step and why),
2 for bad flags.

example, against the local stage of npm start:
  npm run smoke -- --url http://localhost:3000 --till demo.till --password demo-password`;

interface Request {
  method: 'GET' | 'POST';
  path: string;
  headers?: Record<string, string>;
  body?: string;
}

/** Sends one request; a request that gets no answer (refused, reset, timed out) is thrown. */
async function send(flags: Flags, request: Request): Promise<Reply> {
  const started = performance.now();
  const response = await fetch(`${flags.url}${request.path}`, {
    method: request.method,
    headers: request.headers,
    body: request.body,
    // A redirect is a misconfigured --url (http for https, a missing stage): reported, not followed.
    redirect: 'manual',
    signal: AbortSignal.timeout(flags.timeoutMs),
  });
  const text = await response.text();
  const headers: Record<string, string> = {};
  response.headers.forEach((value, name) => (headers[name.toLowerCase()] = value));
  return { status: response.status, headers, text, ms: performance.now() - started };
}

class StepFailed extends Error {
  constructor(
    readonly step: Step,
    readonly checks: Check[],
  ) {
    super(`${step} failed`);
  }
}

/** Every step in order; the first whose checks fail ends the run, and the verdict names it. */
async function smoke(flags: Flags, print: (line: string) => void): Promise<{ ok: boolean; line: string }> {
  const run = newRun(flags);
  const auth = { Authorization: authorization(flags.till, flags.passwordMd5) };

  const exchange = async (step: Step, request: Request, check: (reply: Reply) => Check[]): Promise<Reply> => {
    const sent = await send(flags, request).then(
      (reply) => ({ reply }),
      (error: unknown) => ({ error }),
    );
    const checks =
      'reply' in sent ? check(sent.reply) : [transportFailure(sent.error, `${flags.url}${request.path.split('?')[0]}`, flags.timeoutMs)];
    if (flags.verbose) for (const c of checks) print(checkLine(step, c));
    if (checks.some((c) => !c.ok)) throw new StepFailed(step, checks);
    return (sent as { reply: Reply }).reply;
  };

  let registered: Registered = { checks: [] };
  try {
    await exchange('openapi', { method: 'GET', path: '/v2/openapi.json' }, checkOpenApi);
    const register: Request = {
      method: 'POST',
      path: '/v2/customers',
      headers: { ...auth, 'Content-Type': 'application/json', 'Idempotency-Key': run.idempotencyKey },
      // One text for both sends: the key is bound to the body as sent.
      body: registrationBody(run),
    };
    const first = await exchange('register', register, (reply) => (registered = checkRegistered(reply)).checks);
    const id = registered.customerId!;
    await exchange('replay', register, (reply) => checkReplay(first, reply));
    await exchange('lookup', { method: 'GET', path: lookupPath(run), headers: auth }, (reply) => checkLookup(reply, id));
    await exchange('read', { method: 'GET', path: `/v2/customers/${id}`, headers: auth }, (reply) => checkRead(reply, id, run));
    return { ok: true, line: okVerdict(flags.url, first, id) };
  } catch (error) {
    if (error instanceof StepFailed) return { ok: false, line: failedVerdict(error.step, error.checks, registered.customerId) };
    throw error;
  }
}

async function main(argv: string[]): Promise<number> {
  const flags = readFlags(argv);
  if (flags === 'help') {
    console.log(USAGE);
    return 0;
  }
  const verdict = await smoke(flags, (line) => console.log(line));
  console.log(verdict.line);
  return verdict.ok ? 0 : 1;
}

if (require.main === module) {
  runCommand(
    'smoke',
    () => main(process.argv.slice(2)),
    (error) => `FAILED unexpectedly: ${error.name}: ${error.message}`,
  );
}
