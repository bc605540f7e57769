import type { Figure } from './report';

// Why a figure misses its target: the cause in the code as it is now, with the evidence this
// run measured (each figure's `evidence`, see its note), and what would and would not be
// reasonable to change. Printed in BENCHMARKS.md only for figures that miss their target, so
// that a fixed figure drops out; a figure that misses with no finding here says so.

type Evidence = Record<string, number>;

const kb = (bytes: number) => `${(bytes / 1024).toFixed(0)} KB`;
const msText = (value: number) => `${value.toFixed(0)} ms`;
const ratio = (value: number, floor: number) => (value / floor).toFixed(2);

const FINDINGS: { prefix: string; text: (e: Evidence) => string }[] = [
  {
    prefix: 'round trips / rate-limited (429), org of',
    text: () =>
      "Cause (lib/rateLimit.ts, `takeRequest`): once an instance has served 2 or more requests in the minute its block is 2 or more; when the window is full the block's conditional `ADD` fails and the fallback `reserve(…, 1)` is sent as well and fails too, so each 429 costs 2 UpdateItems, and so does every later 429 of that instance in the same minute (see the note: first and next 429). " +
      'An org under 200 a minute (blocks of one) pays 1, measured for org 300. ' +
      "Reasonable: send the block reservation with `ReturnValuesOnConditionCheckFailure: ALL_OLD`, so that a failed block returns the window's count, and retry only with what is left (`limit − requests`) when something is; and, since a window's count only grows within its minute, remember a full window in memory until it ends, so that later 429s of that instance send nothing. " +
      'The table still never counts fewer requests than were served. Only orgs of 200 a minute or more are affected, and only while they are over their limit.',
  },
  {
    prefix: 'rate counter /',
    text: () =>
      'The limit did not hold (more admitted than the limit, or admitted requests the window did not count) or the counter sent more than one update per registration: a defect in lib/rateLimit.ts or lib/store/rateWindows.ts, whatever the cost figures say. The note gives both runs (at and over the limit); `npx jest test/integration/rateLimit.test.ts` checks the same with many instances and with lost answers.',
  },
  {
    prefix: 'events / DynamoDB round trips per event',
    text: () =>
      'The publisher read more than the floor: the org configuration more than once per org (an `org` port around something other than the cached `getOrgConfig` of lib/store/orgs.ts, or a cache that did not hold), or, for full events, the customer more than once per customer per batch (lib/api/publishEvents.ts reads it for every record; reading each customer once per batch, before the batch is published, meets the floor). The note gives the commands of a new instance and of a warm one.',
  },
  {
    prefix: 'events / PutEvents calls per event',
    text: (e) =>
      e.full
        ? `As for thin events (the finding above): ${e.calls} requests for ${e.events} events against ${e.floorCalls}; full events are larger (see the note for the largest request) but 10 of them still fit a request many times over.`
        : `Cause (lib/api/publishEvents.ts, \`publishRecords\`): the events of each record are published with a call of their own (\`ports.bus.publish(events)\` inside the loop over the batch's records), and a record makes one event, so a batch of 100 records sends 100 PutEvents requests of one entry where 10 of 10 would do: ${e.calls} requests for ${e.events} events against ${e.floorCalls}. ` +
          'EventBridge bills per event (each 64 KB chunk of an entry), not per request, so the events cost the same; the requests cost the publisher time (one HTTPS round trip each, billed as Lambda duration while the next batch of the shard waits) and CPU (see publisher CPU per event). ' +
          'Reasonable: gather the events of consecutive records, up to 10 entries and 256 KiB a request, send them together, and queue their webhook deliveries 10 to a SendMessageBatch, keeping the order and the failure rule: when a request fails, report the first record with an event in it (for a partial failure, the first record with a failed entry: PutEvents answers its entries in the order sent, so EventBridgeBus would say which), and Lambda retries from there; the events of earlier records of that request that did go out are published again with the same ids, which the at-least-once contract already allows. ' +
          'Not reasonable: publishing after the handler returns or across batches, which loses "retry from the failed record" and with it the order of one customer\'s events.',
  },
  {
    prefix: 'events / SQS calls per event',
    text: (e) => {
      const usd = (calls: number) => `$${((calls / e.events) * 0.4).toFixed(2)}`;
      return e.full
        ? `As for thin events (the finding above): ${e.calls} SendMessageBatch requests for ${e.deliveries} deliveries against ${e.floorCalls}.`
        : `The same cause as for PutEvents, for webhook deliveries: \`ports.deliveries.enqueue(deliveries)\` runs once per record, so ${e.deliveries} deliveries went out in ${e.calls} SendMessageBatch requests against ${e.floorCalls} (10 a request). ` +
            `Unlike EventBridge, SQS bills per request (every 64 KB of a request counts as one), so here the requests are the bill: for an org with one subscription, about ${usd(e.calls)} of SQS requests per million events against ${usd(e.floorCalls)} (standard queue, $0.40 per million requests in us-east-1, sending only). ` +
            'Reasonable: the change under PutEvents calls, the deliveries of the gathered records queued 10 to a request (and under the request size limit) once their events are published.';
    },
  },
  {
    prefix: 'events / publisher CPU per event',
    text: (e) =>
      `The publisher spends ${e.cpu.toFixed(3)} ms of CPU per event against ${e.floor.toFixed(3)} ms for the floor publisher on the same batches and the same stubbed clients. Both run the same translation (\`changeOf\`, \`eventsOf\`) and the same reads; most of the difference is the SDK's work per request (building, serialising and signing each PutEvents and SendMessageBatch request): ${e.calls} requests against ${e.floorCalls}. ` +
      (e.full
        ? "The customer's Query and document weigh the same in both, so the ratio is lower than for thin events; the same change removes the difference."
        : "Gathering the batch's events and deliveries 10 to a request (see PutEvents calls per event) removes it."),
  },
  {
    prefix: 'events / items written per registration',
    text: () =>
      "A registration wrote items besides its own transaction's and the rate counter (see the note's stream records by entity), such as an outbox item: SPEC section 10 says the stream is the outbox and registration writes nothing extra. Find the writer from the entity in the note.",
  },
  {
    prefix: 'cold start / bundle size',
    text: (e) =>
      `The handler bundle is ${kb(e.handlerBytes)} against ${kb(e.floorBytes)} for the DynamoDB client alone; the ${kb(e.extraBytes)} beyond the client are listed part by part under Cold start. The largest are libphonenumber-js ${kb(e.phoneBytes)} (its mobile metadata is ${kb(e.metadataBytes)} of JSON, of which ${kb(e.formatBytes)} are national formatting rules that parsing and validation do not read), the generated validators ${kb(e.schemaBytes)} and the rest of lib/ ${kb(e.libBytes)}. ` +
      `Reasonable, keeping the behaviour (built and measured here as a diagnostic): a script that writes the mobile metadata without formatting rules, used through \`libphonenumber-js/core\` in lib/identifiers.ts and lib/extendedFields.ts. It needs a test that it parses like the full metadata (this run: ${e.metadataInputs} inputs, ${e.metadataDifferences} differences) and must be regenerated when libphonenumber-js is upgraded. ` +
      `With the cuts built here: ${kb(e.cutBytes)}, ratio ${ratio(e.cutBytes, e.floorBytes)}${e.cutBytes / e.floorBytes <= 1.3 ? ', within the target' : ', still above the target'}. ` +
      `Not reasonable: dropping the generated validators (they are the request validation, compiled ahead of time, with no AJV runtime in the bundle) or phone validation itself; the rest of lib/ is the service.`,
  },
  {
    prefix: 'cold start / new process to first response',
    text: (e) => {
      const load = e.handlerLoad - e.floorLoad;
      const request = e.handlerRequest - e.floorRequest;
      const boot = e.handlerBoot - e.floorBoot;
      const over = e.handler - e.floor;
      const dominant =
        load >= request
          ? `Loading the bundle dominates: require takes ${msText(e.handlerLoad)} against the floor's ${msText(e.floorLoad)} (${kb(e.handlerBytes)} against ${kb(e.floorBytes)}), and ${msText(e.cutsLoad)} with the bundle cuts under bundle size.`
          : `The first request dominates: ${msText(e.handlerRequest)} against the floor's ${msText(e.floorRequest)}, both with the same scrypt check (about ${msText(e.scrypt)} in a new process). The rest is work the floor does not do on its first call: reading the till and the org, the counter update, the first validation and the log line, each the first use of its code in the process.`;
      return (
        `Against a floor that does the same scrypt check of the till's password, the handler takes ${msText(e.handler)} against ${msText(e.floor)}, ${msText(over)} more: ${msText(load)} in require of the bundle, ${msText(request)} in the first request${Math.abs(boot) >= 1 ? `, ${msText(boot)} in node start` : ''}. ` +
        `${dominant} With the bundle cuts: ${msText(e.cuts)}, ratio ${ratio(e.cuts, e.floor)}. ` +
        "Not reasonable: cheapening scrypt (the spec requires a slow hash; N = 16384 is already below OWASP's recommended minimum, N = 2^17); it is in the floor, so it no longer counts against the ratio."
      );
    },
  },
  {
    prefix: 'handler overhead',
    text: (e) =>
      `The handler takes ${e.handler.toFixed(3)} ms against the floor's ${e.floor.toFixed(3)} ms. Both send one SDK command per request (the rate counter adds ${e.counterPerRequest.toFixed(4)} UpdateItems per request, block-reserved), and planning and sending the transaction alone takes ${e.transaction.toFixed(3)} ms. ` +
      `The rest is the handler's own work, spread thin: the route wrapper around an empty handler ${e.route.toFixed(3)} ms (its log line alone ${e.log.toFixed(3)} ms), validation and reading of the body ${e.read.toFixed(3)} ms, plus the registration's decision and response. ` +
      "A one-off CPU profile (8 000 warm calls of each, `node --cpu-prof`; not part of this run) put libphonenumber's parsing and validation of the mobile first among them, then AJV, the logger (pino at the time), middy and the register loop, each a small share. " +
      'No one change would bring the figure back under its target. Each of these pieces does work the spec requires, so nothing is reasonable to remove; the figure is close to its target and moves with machine load (see min and max).',
  },
  {
    prefix: 'throughput',
    text: (e) =>
      `The handler served ${e.handler.toFixed(0)}/s against ${e.raw.toFixed(0)}/s for the same transactions sent raw, with ${e.counterPerRequest.toFixed(4)} counter UpdateItems per registration, on 2 cores shared with DynamoDB Local; rounds vary with machine load (see min and max). Not yet analysed further in this run.`,
  },
];

export function findingsFor(figures: Figure[]): string[] {
  const found: string[] = [];
  for (const figure of figures) {
    if (figure.met) continue;
    const finding = FINDINGS.find((f) => figure.name.startsWith(f.prefix));
    const text = finding && (finding.text.length === 0 || figure.evidence) ? finding.text(figure.evidence ?? {}) : 'not yet analysed.';
    found.push(`**${figure.name}**: ${text}`);
  }
  return found;
}
