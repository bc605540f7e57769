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
