import { execFile } from 'node:child_process';
import { createServer } from 'node:net';
import { promisify } from 'node:util';
import { freePort } from '../../scripts/dynamodbLocal';
import { ROOT } from '../support/offline';

// `npm start` on a port another server holds says so in one line and starts nothing, instead of
// serverless offline's page of stack trace after DynamoDB Local has started.

const run = promisify(execFile);

test('a port in use is one line naming it and another port to use, exit 1', async () => {
  const port = await freePort();
  const holder = createServer();
  await new Promise<void>((resolve) => holder.listen(port, '127.0.0.1', resolve));
  try {
    const failed = await run('npm', ['run', '-s', 'start:memory'], { cwd: ROOT, env: { ...process.env, PORT: String(port) } }).then(
      () => undefined,
      (error: { code: number; stdout: string; stderr: string }) => error,
    );
    expect(failed?.code).toBe(1);
    const lines = failed!.stderr.split('\n').filter((line) => line.startsWith('start: port'));
    expect(lines).toEqual([
      `start: port ${port} on 127.0.0.1 is in use (another npm start?); stop it, or start on another port: PORT=${port + 1000} npm start`,
    ]);
    expect(failed!.stdout).not.toContain('DynamoDB Local on');
  } finally {
    holder.close();
  }
}, 60_000);
