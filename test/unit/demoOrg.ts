import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CardSeries, OrgConfig, OrgFile } from '../../lib/org';

// The demo orgs of SPEC section 7, as the service holds them once loaded (tills by code).

const files = JSON.parse(readFileSync(join(__dirname, '..', '..', 'config', 'orgs', 'demo.json'), 'utf8')) as OrgFile[];

function orgConfig(orgId: number): OrgConfig {
  const file = files.find((f) => f.orgId === orgId);
  if (!file) throw new Error(`demo org ${orgId} is missing from config/orgs/demo.json`);
  // A deep copy, so that a test may adjust its org without touching another test's.
  const copy = JSON.parse(JSON.stringify(file)) as OrgFile;
  return { ...copy, tills: copy.tills.map((t) => t.username) };
}

/** Org 100 "Demo Retail": extended fields, card series 501 and 502, programs 1 and 2. */
export function demoRetail(): OrgConfig {
  return orgConfig(100);
}

/** Org 200 "Other Brand": no extended fields, no card series, program 1 only. */
export function otherBrand(): OrgConfig {
  return orgConfig(200);
}

export function series(org: OrgConfig, code: string): CardSeries {
  const found = org.cardSeries.find((s) => s.code === code);
  if (!found) throw new Error(`org ${org.orgId} has no card series ${code}`);
  return found;
}
