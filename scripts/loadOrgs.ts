import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { OrgFile } from '../lib/org';
import { saveOrg } from '../lib/store/orgs';
import stages from '../config/stages.json';

// Loads org configuration files into a stage's table:
//
//   npm run load-orgs -- --stage emea config/orgs/example-brand.json
//
// The table is `loyalty-customers-<stage>` unless TABLE_NAME says otherwise; the region is the
// stage's; DYNAMODB_ENDPOINT points at DynamoDB Local (unset: real AWS, with the usual AWS
// credentials). Each file holds one org or an array of orgs.

export async function loadOrgFiles(paths: string[]): Promise<number[]> {
  const loaded: number[] = [];
  for (const path of paths) {
    const parsed = JSON.parse(readFileSync(resolve(path), 'utf8')) as OrgFile | OrgFile[];
    for (const org of Array.isArray(parsed) ? parsed : [parsed]) {
      await saveOrg(org);
      loaded.push(org.orgId);
    }
  }
  return loaded;
}

export const DEMO_ORGS_FILE = resolve(__dirname, '..', 'config', 'orgs', 'demo.json');

async function main(argv: string[]): Promise<void> {
  const files: string[] = [];
  let stage = process.env.STAGE || 'local';
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--stage') stage = argv[++i];
    else files.push(argv[i]);
  }
  const settings = (stages as unknown as Record<string, { region: string } | undefined>)[stage];
  if (!settings) throw new Error(`unknown stage ${stage}; one of ${Object.keys(stages).join(', ')}`);
  process.env.AWS_REGION ||= settings.region;
  process.env.TABLE_NAME ||= `loyalty-customers-${stage}`;
  const loaded = await loadOrgFiles(files.length > 0 ? files : [DEMO_ORGS_FILE]);
  console.log(`loaded orgs ${loaded.join(', ')} into ${process.env.TABLE_NAME} (${stage})`);
}

if (require.main === module) {
  main(process.argv.slice(2)).catch((error) => {
    console.error(`load-orgs: ${(error as Error).message}`);
    process.exit(1);
  });
}
