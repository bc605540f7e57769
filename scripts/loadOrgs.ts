import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { OrgFile } from '../lib/org';
import { saveOrg } from '../lib/store/orgs';
import { StageError, useStage } from './stage';

// Loads org configuration files into a stage's table (see USAGE). Each file holds one org or
// an array of orgs; every file is checked before anything is written.

const USAGE = `usage: npm run load-orgs -- [--stage <stage>] [file.json ...]

Loads org configuration files (one org or an array of orgs each; schema:
config/orgs/org.schema.json) into the stage's table. Without files: the demo orgs.

  --stage <stage>  local (default: $STAGE or local), asia1, asia2 or emea
                   local is the DynamoDB Local of a running \`npm start\`;
                   a regional stage is AWS's table in the stage's region
                   (the usual AWS credentials; TABLE_NAME overrides the table)
  --help           this text

example: npm run load-orgs -- --stage local config/orgs/example-brand.json`;

export async function loadOrgFiles(paths: string[], options: { stage?: string } = {}): Promise<number[]> {
  const orgs = paths.flatMap((path) => {
    const parsed = JSON.parse(readFileSync(resolve(path), 'utf8')) as OrgFile | OrgFile[];
    return Array.isArray(parsed) ? parsed : [parsed];
  });
  if (options.stage && options.stage !== 'local') refuseLocalWebhooks(orgs, options.stage);
  for (const org of orgs) await saveOrg(org);
  return orgs.map((org) => org.orgId);
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

async function main(argv: string[]): Promise<number> {
  const files: string[] = [];
  let stage = process.env.STAGE || 'local';
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--help' || argv[i] === '-h') {
      console.log(USAGE);
      return 0;
    }
    if (argv[i] === '--stage') {
      stage = argv[++i] ?? '';
      if (!stage) throw new StageError('--stage needs a stage name (see --help)');
    } else if (argv[i].startsWith('-')) throw new StageError(`unknown option ${argv[i]} (see --help)`);
    else files.push(argv[i]);
  }
  const target = useStage(stage);
  const loaded = await loadOrgFiles(files.length > 0 ? files : [DEMO_ORGS_FILE], { stage });
  console.log(`loaded orgs ${loaded.join(', ')} into ${target.table} (${stage}: ${target.where})`);
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
