import { execFile } from 'node:child_process';
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ROOT, SERVERLESS } from './offline';

// `serverless package --stage <stage>` in a scratch copy of the service (so that no build output
// lands in the checkout), as an operator's shell would run it: with whatever it has exported
// (`env`), by default this process's environment without DynamoDB Local's endpoint.

const run = promisify(execFile);

export interface Packaged {
  template: {
    Resources: Record<
      string,
      { Type: string; Properties: any; DeletionPolicy?: string; UpdateReplacePolicy?: string; DependsOn?: string[] }
    >;
    Outputs: Record<string, { Value: unknown }>;
  };
  state: { service: { provider: { region: string; stage: string; [setting: string]: any } } };
}

export async function packageStage(stage: string, options: { env?: Record<string, string> } = {}): Promise<Packaged> {
  const service = mkdtempSync(join(tmpdir(), `sls-service-${stage}-`));
  const output = mkdtempSync(join(tmpdir(), `sls-package-${stage}-`));
  try {
    for (const entry of readdirSync(ROOT)) {
      if (['serverless.yml', '.esbuild', '.serverless', '.git'].includes(entry)) continue;
      symlinkSync(join(ROOT, entry), join(service, entry));
    }
    copyFileSync(join(ROOT, 'serverless.yml'), join(service, 'serverless.yml'));
    const env: NodeJS.ProcessEnv = { ...process.env };
    delete env.DYNAMODB_ENDPOINT;
    Object.assign(env, options.env);
    await run(process.execPath, [SERVERLESS, 'package', '--stage', stage, '--package', output], {
      cwd: service,
      env,
      maxBuffer: 20 * 1024 * 1024,
    });
    return {
      template: JSON.parse(readFileSync(join(output, 'cloudformation-template-update-stack.json'), 'utf8')),
      state: JSON.parse(readFileSync(join(output, 'serverless-state.json'), 'utf8')),
    };
  } finally {
    rmSync(service, { recursive: true, force: true });
    rmSync(output, { recursive: true, force: true });
  }
}
