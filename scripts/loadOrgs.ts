import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import stages from '../config/stages.json';
import type { OrgFile } from '../lib/org';
import { saveOrg } from '../lib/store/orgs';
import StageThrottling from './serverless/stageThrottling';
import { StageError, useStage } from './stage';

// Loads org configuration files into a stage's table (see USAGE). Each file holds one org or
// an array of orgs; every file is checked before anything is written. In a regional stage an
// org whose own limit is above what the stage's API Gateway throttle admits is loaded with a
// warning on stderr: the limit stays a true ceiling, but the stage answers 429 before it.

const USAGE = `usage: npm run load-orgs -- [--stage <stage>] [file.json ...]

Loads org configuration files (one org or an array of orgs each; schema:
config/orgs/org.schema.json) into the stage's table. Without files: the demo orgs.
In a regional stage, an org whose rateLimitPerMinute is above what the stage's
API Gateway throttle admits for all its orgs (config/stages.json) is loaded with
a warning on stderr.

  --stage <stage>  local (default: $STAGE or local), asia1, asia2 or emea
                   local is the DynamoDB Local of a running \`npm start\`;
                   a regional stage is AWS's table in the stage's region
                   (the usual AWS credentials; TABLE_NAME overrides the table)
  --help           this text

example: npm run load-orgs -- --stage local config/orgs/example-brand.json`;

export interface LoadOptions {
  stage?: string;
  /** Where the warnings go, one line each: stderr unless a test says otherwise. */
  warn?: (line: string) => void;
  /** Writes one org: the stage's table unless a test says otherwise. */
  save?: (org: OrgFile) => Promise<void>;
}

export async function loadOrgFiles(paths: string[], options: LoadOptions = {}): Promise<number[]> {
  const { stage, warn = (line: string) => console.error(line), save = saveOrg } = options;
  const orgs = paths.flatMap((path) => {
    const parsed = JSON.parse(readFileSync(resolve(path), 'utf8')) as OrgFile | OrgFile[];
    return Array.isArray(parsed) ? parsed : [parsed];
  });
  if (stage && stage !== 'local') {
    refuseLocalWebhooks(orgs, stage);
    for (const line of throttleWarnings(orgs, stage, stageSettings(stage))) warn(`load-orgs: ${line}`);
  }
  for (const org of orgs) await save(org);
  return orgs.map((org) => org.orgId);
}

/** What API Gateway's stage throttle on POST /v2/customers is made of (config/stages.json). */
export interface ThrottleSettings {
  /** The stage's default per-org limit, registrations a minute. */
  rateLimitPerMinute: number;
  /** How many orgs at that full rate the stage throttle admits at once. */
  throttleOrgs: number;
}

function stageSettings(stage: string): ThrottleSettings {
  const settings = (stages as unknown as Record<string, ThrottleSettings | undefined>)[stage];
  if (!settings) throw new StageError(`config/stages.json has no stage ${stage}`);
  return settings;
}

/**
 * One warning for each org whose rateLimitPerMinute is above what the stage's API Gateway
 * throttle admits for all the stage's orgs together (the rate scripts/serverless/stageThrottling.js
 * deploys, times 60, to whole registrations: about 2,000 a minute in emea). Such a limit is never
 * reached in that stage: the throttle answers 429 first. None for the local stage, where serverless
 * offline has no stage throttle. Tills have no limit of their own (every till's requests count
 * against the org's one limit, lib/rateLimit.ts; the schema refuses any other key on a till).
 */
export function throttleWarnings(orgs: OrgFile[], stage: string, settings: ThrottleSettings): string[] {
  if (stage === 'local') return [];
  const { rateLimit } = StageThrottling.throttleFor(settings);
  const admitted = Math.round(rateLimit * 60);
  return orgs
    .filter((org) => org.rateLimitPerMinute !== undefined && org.rateLimitPerMinute > admitted)
    .map((org) => {
      const limit = org.rateLimitPerMinute!;
      const orgsNeeded = Math.ceil(limit / settings.rateLimitPerMinute);
      return (
        `warning: org ${org.orgId} (${org.name}) has rateLimitPerMinute ${limit}, but API Gateway admits about ${admitted}` +
        ` registrations a minute (${rateLimit} per second) on POST /v2/customers for all the orgs of stage ${stage} together,` +
        ` so it answers 429 before the org reaches its limit; to admit it, raise throttleOrgs (to ${orgsNeeded})` +
        ` or rateLimitPerMinute of ${stage} in config/stages.json and deploy`
      );
    });
}

/**
 * AWS stages send webhooks over https only (lib/webhooks/target.ts): a plain http URL would have
 * every delivery refused, so it is refused here, when the operator can still fix it.
 */
function refuseLocalWebhooks(orgs: OrgFile[], stage: string): void {
  for (const org of orgs) {
    (org.webhooks ?? []).forEach((subscription, index) => {
      if (!/^https:\/\//i.test(String(subscription.url))) {
        throw new StageError(`org ${org.orgId}: /webhooks/${index}/url must be an https URL in stage ${stage} (${subscription.url})`);
      }
    });
  }
}

export const DEMO_ORGS_FILE = resolve(__dirname, '..', 'config', 'orgs', 'demo.json');

/** What the command writes to and where the orgs go; a test replaces them. */
export interface LoadOrgsIo {
  out: (line: string) => void;
  err: (line: string) => void;
  save: (org: OrgFile) => Promise<void>;
}

const PROCESS_IO: LoadOrgsIo = {
  out: (line) => console.log(line),
  err: (line) => console.error(line),
  save: saveOrg,
};

export async function main(argv: string[], io: LoadOrgsIo = PROCESS_IO): Promise<number> {
  const files: string[] = [];
  let stage = process.env.STAGE || 'local';
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--help' || argv[i] === '-h') {
      io.out(USAGE);
      return 0;
    }
    if (argv[i] === '--stage') {
      stage = argv[++i] ?? '';
      if (!stage) throw new StageError('--stage needs a stage name (see --help)');
    } else if (argv[i].startsWith('-')) throw new StageError(`unknown option ${argv[i]} (see --help)`);
    else files.push(argv[i]);
  }
  const target = useStage(stage);
  const loaded = await loadOrgFiles(files.length > 0 ? files : [DEMO_ORGS_FILE], { stage, warn: io.err, save: io.save });
  io.out(`loaded orgs ${loaded.join(', ')} into ${target.table} (${stage}: ${target.where})`);
  return 0;
}

if (require.main === module) {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error) => {
      console.error(`load-orgs: ${(error as Error).message}`);
      process.exit(error instanceof StageError ? 2 : 1);
    },
  );
}
