import { handler } from '../../handlers/addCustomer';
import { MAX_BODY_BYTES } from '../../lib/http/route';
import { lambdaContext } from '../support/requests';
import { apiEvent } from '../../test/support/http';
import { ms, ratioOf, spread, type Figure, type Section } from '../support/report';

// The CPU a request costs at its worst: bodies of at most 64 KiB built to be expensive to judge
// (an array of tens of thousands of empty comm channels, identifiers, unknown keys; invalid
// values in every place the schema allows), through the real handler. The floor is what any
// implementation must spend on such a body: parsing its JSON.

/** Each hostile body: an array of as many copies of one element as 64 KiB hold, in one place of a request. */
const KINDS: { name: string; wrap: (array: string) => string; element: string }[] = [
  {
    name: 'empty comm channels',
    wrap: (a) => `{"profiles":[{"source":"INSTORE","identifiers":[{"type":"mobile","value":"9876501234"}],"commChannels":[${a}]}]}`,
    element: '{}',
  },
  { name: 'identifiers without a type', wrap: (a) => `{"profiles":[{"source":"INSTORE","identifiers":[${a}]}]}`, element: '{}' },
  { name: 'empty profiles', wrap: (a) => `{"profiles":[${a}]}`, element: '{}' },
  {
    name: 'unknown keys',
    wrap: (a) => `{"profiles":[{"source":"INSTORE","identifiers":[{"type":"mobile","value":"9876501234"}]}],${a}}`,
    element: '"k":1',
  },
];

/** As many elements as the 64 KiB bound holds (unknown keys numbered, so that they stay distinct keys). */
function largest(wrap: (array: string) => string, element: string): string {
  let room = MAX_BODY_BYTES - Buffer.byteLength(wrap(''));
  const items: string[] = [];
  for (let i = 0; ; i++) {
    const item = element.startsWith('"k"') ? `"k${i.toString(36)}":1` : element;
    const cost = Buffer.byteLength(item) + (items.length > 0 ? 1 : 0);
    if (cost > room) break;
    items.push(item);
    room -= cost;
  }
  return wrap(items.join(','));
}

function cpuMs(start: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1000;
}

/** Median CPU of the worst kind through the handler, against JSON.parse of the same body. */
export async function measureHostileBody(runs: number): Promise<Section> {
  const results: { name: string; handler: number; parse: number; status: number; bytes: number }[] = [];
  for (const kind of KINDS) {
    const raw = largest(kind.wrap, kind.element);
    const handlerSamples: number[] = [];
    const parseSamples: number[] = [];
    let status = 0;
    let bytes = 0;
    for (let i = 0; i < runs; i++) {
      const event = apiEvent('POST', '/v2/customers', undefined, { rawBody: raw });
      let start = process.cpuUsage();
      const response = await handler(event, lambdaContext());
      handlerSamples.push(cpuMs(start));
      status = response.statusCode;
      bytes = Buffer.byteLength(response.body);
      start = process.cpuUsage();
      JSON.parse(raw);
      parseSamples.push(cpuMs(start));
    }
    results.push({ name: kind.name, handler: spread(handlerSamples).median, parse: spread(parseSamples).median, status, bytes });
  }
  const worst = results.reduce((a, b) => (b.handler > a.handler ? b : a));
  const figure: Figure = {
    name: 'CPU / largest hostile body',
    group: 'hostile input',
    value: `${ms(worst.handler)} ms (${worst.name})`,
    floor: `${ms(worst.parse)} ms (JSON.parse)`,
    ratio: ratioOf(worst.handler, worst.parse),
    target: '≤ 100 ms',
    met: worst.handler <= 100,
    note:
      `bodies of at most ${MAX_BODY_BYTES} bytes, each one array (or object) of as many copies of one element as fit, through the real handler, CPU time (user + system) of the process, median of ${runs}: ` +
      results
        .map((r) => `${r.name} ${ms(r.handler)} ms (${r.status}, ${r.bytes} bytes answered; JSON.parse ${ms(r.parse)} ms)`)
        .join('; ') +
      '. Bounds are checked in one pass before the validator, so an oversized array is one problem and its elements are not judged.',
    evidence: { cpuMs: worst.handler },
  };
  return { title: 'Hostile input', figures: [figure], notes: [] };
}
