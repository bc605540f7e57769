import type { Figure } from './report';

/**
 * Why a figure misses its target, as found by profiling and by timing the phases (see the
 * notes of each figure), and the change in lib/ that would bring it to its floor. Printed in
 * BENCHMARKS.md only for figures that miss their target, so that a fixed figure drops out.
 */
const FINDINGS: { prefix: string; text: string }[] = [
  {
    prefix: 'round trips / same-source duplicate',
    text:
      'The create transaction is cancelled on the known mobile and its `ALL_OLD` item names the owner but not the source accounts the owner was created with, so `registerCustomer` decides "merge" and needs a second transaction, whose customer ConditionCheck fails, to learn it is 8006. ' +
      'Proposed (lib/store/customers.ts): store the customer\'s creation-time `sourceAccounts` on every identifier item it owns (`putIdentifier`, in `planCreateCustomer` and in `planMergeProfiles`, which copies them from the known identifier\'s `ALL_OLD`), and read them in `readCancellation` into `takenSourceAccounts`. ' +
      'The customer item\'s `sourceAccounts` never changes after creation (merged profiles are separate `PROFILE#` items), so the copy cannot go stale; 8006 for a source the customer was created with is then decided after the first transaction: 2 round trips.',
  },
  {
    prefix: 'round trips / rejected input',
    text:
      'The route counts the request (`rateLimit()` middleware, lib/http/route.ts) before the body is read, so a 400 costs one UpdateItem (1 WRU) and uses up the org\'s minute. ' +
      'Proposed: count after validation: drop `rateLimited: true` in handlers/addCustomer.ts and call `takeRequest(org)` in lib/api/addCustomer.ts after `readRegistration` and before `registerCustomer`, copying its headers onto the response (and onto the 429). ' +
      'A rejected request then costs no DynamoDB request; invalid floods are left to API Gateway throttling.',
  },
  {
    prefix: 'write units / merge',
    text:
      'Every ConditionCheck in the merge transaction costs 2 WRU on top of the 2 WRU of each item that must be written; `planMergeProfiles` checks each known identifier (`customerId = :owner`). ' +
      'Identifier items are written once with `attribute_not_exists(pk)` and never updated or deleted, so a known identifier, once seen owned by a customer in the cancellation, stays that customer\'s: the check can never fail. ' +
      'Proposed (lib/store/customers.ts): drop the known-identifier ConditionChecks from `planMergeProfiles` (and the customer ConditionCheck, if present: the `PROFILE#<source account>` Put already refuses a second profile in a merged source, and the creation-time sources travel on the identifier items). A merge then costs 2 × (1 profile + new identifiers): 4 WRU here.',
  },
  {
    prefix: 'handler overhead',
    text:
      'Per request the handler sends two commands through the SDK (the rate counter\'s UpdateItem and the transaction); each costs about as much CPU as the whole floor handler (profile: middleware stack resolution, SigV4 signing, endpoint resolution and JSON (de)serialisation in @smithy/core and @aws-sdk/*), while everything else (cached authentication, AJV, libphonenumber, middy, the log line) costs a fraction of one command; the phase timings and the diagnostic in the note (the same handler with the counter answered without the SDK) show it. ' +
      'Proposed (lib/rateLimit.ts): lease the window\'s count in blocks: one conditional `ADD requests :n` (condition `attribute_not_exists(requests) OR requests <= :limit - :n`, falling back to n = 1 when fewer remain) reserves n requests for this Lambda instance, then served from memory until used or the window ends, with n = clamp(requests this instance served in the last few seconds, 1, floor(limit / 100)). ' +
      'The table never counts fewer requests than were served, so the limit still never overshoots; at most n − 1 reserved requests per instance go unused at a window\'s end, and X-RateLimit-Remaining becomes approximate. At 100 000/min (org 100) the counter then costs one UpdateItem per hundreds of requests; at 10/min (org 300) nothing changes. It also lifts DynamoDB\'s limit of about 1 000 writes per second on the one window item of an org.',
  },
  {
    prefix: 'cold start / bundle size',
    text:
      'Beyond the SDK, the handler bundle carries libphonenumber-js/mobile (133 KB, of which 99 KB metadata and about half of that national formatting rules that parsing and validation do not use), pino and its dependencies (about 63 KB), the generated AJV validators (41 KB), ajv-formats (8 KB, imported by lib/identifiers.ts for one email regex) and lib/ (about 25 KB). ' +
      'Proposed: (1) lib/log.ts: a JSON-line logger of a few lines (`process.stdout.write(JSON.stringify({level, time, ...fields, msg}))`, same fields, no values to redact since none are logged) instead of pino: −63 KB; (2) lib/identifiers.ts: the email pattern copied in instead of importing `ajv-formats/dist/formats`: −7 KB; ' +
      '(3) a `scripts/build-phone-metadata.ts` that writes lib/phoneMetadata.json = libphonenumber-js/metadata.mobile.json without each country\'s formats (element 4), used through `libphonenumber-js/core` in lib/identifiers.ts and lib/extendedFields.ts: −50 KB (40 735 parsed inputs, examples of every country and random numbers, gave identical validity and E.164 with both metadata). ' +
      'Measured with these three stubbed in by esbuild plugins: 692 KB against 536 KB, ratio 1.29.',
  },
  {
    prefix: 'cold start / new process',
    text:
      'Most of the difference is the first request\'s password check: scrypt (N = 16384, 16 MB) costs about 60 ms in a new process (its memory is fresh), which SPEC section 2 requires; with `verifyPassword` stubbed out the handler\'s first request drops from about 105 to about 41 ms (floor: about 30 ms). The rest is the larger bundle\'s require (about +50 ms, see bundle size). ' +
      'Proposed: the bundle cuts under bundle size (about −35 ms of require, measured), and let everything that does not depend on the password run while scrypt runs on the thread pool (lib/auth.ts, lib/http/route.ts): the org read (`getOrgConfig(till.orgId)` alongside `verifyPassword`) and the body read and validation (`checkAddCustomerBody` / `readRegistration`, which need only the org) before the password result is awaited; the counter and the transaction wait for it as now. ' +
      'With scrypt kept (it is the spec\'s floor for a first request of a till, and lowering N would weaken it below OWASP\'s minimum), ≤ 1.3× against a bundle that does no authentication is not reachable; by our estimate (bundle cuts about −35 ms measured; a first validation and read take about 6–11 ms, the org read a few more) these changes bring it to about 1.4×.',
  },
  {
    prefix: 'throughput',
    text:
      'Each registration through the handler is two requests to DynamoDB (the rate counter\'s UpdateItem, all on one item per org and minute, and the transaction) against one raw, and twice the SDK CPU in the same Node process, on 2 cores shared with DynamoDB Local. The diagnostic round in the note (counter answered without DynamoDB) shows what is left. ' +
      'Proposed: the leased counter under handler overhead (lib/rateLimit.ts), which removes the UpdateItem from all but one request in n.',
  },
];

export function findingsFor(figures: Figure[]): string[] {
  const found: string[] = [];
  for (const figure of figures) {
    if (figure.met) continue;
    const finding = FINDINGS.find((f) => figure.name.startsWith(f.prefix));
    found.push(`**${figure.name}**: ${finding ? finding.text : 'not yet analysed.'}`);
  }
  return found;
}
