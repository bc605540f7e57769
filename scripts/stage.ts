import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import stages from '../config/stages.json';

// Which table a command means by `--stage`. The local stage is always DynamoDB Local on this
// machine: the one a running `npm start` announced in .local/dynamodb.json (git-ignored), or the
// one DYNAMODB_ENDPOINT names when it is a loopback address. A regional stage is always AWS's
// table in the stage's region: a DynamoDB endpoint or another region in the shell is refused,
// so a stray variable never sends a command to the wrong table.
// scripts/serverless/stageEnvironment.js reads the same file for `serverless invoke local`.

/** Where `npm start` announces its DynamoDB Local; LOCAL_STAGE_FILE moves it (tests do). */
function localStageFile(): string {
  return process.env.LOCAL_STAGE_FILE || join(__dirname, '..', '.local', 'dynamodb.json');
}

export class StageError extends Error {}

interface StageSettings {
  region: string;
}

export function stageNames(): string[] {
  return Object.keys(stages).filter((name) => !name.startsWith('/'));
}

/** Points this process's store at the stage's table; throws a StageError with one line to print. */
export function useStage(stage: string): { table: string; where: string } {
  const settings = (stages as unknown as Record<string, StageSettings | undefined>)[stage];
  if (!settings || !stageNames().includes(stage)) throw new StageError(`unknown stage ${stage}; one of ${stageNames().join(', ')}`);
  process.env.TABLE_NAME ||= `loyalty-customers-${stage}`;
  if (stage === 'local') {
    const endpoint = localEndpoint();
    process.env.DYNAMODB_ENDPOINT = endpoint;
    return { table: process.env.TABLE_NAME, where: `DynamoDB Local on ${endpoint}` };
  }
  if (process.env.DYNAMODB_ENDPOINT) {
    throw new StageError(
      `stage ${stage} is AWS's table in ${settings.region}, but DYNAMODB_ENDPOINT is set (${process.env.DYNAMODB_ENDPOINT}); unset it, or use --stage local`,
    );
  }
  if (process.env.AWS_REGION && process.env.AWS_REGION !== settings.region) {
    throw new StageError(`stage ${stage} is in ${settings.region}, but AWS_REGION is ${process.env.AWS_REGION}; unset it`);
  }
  process.env.AWS_REGION = settings.region;
  return { table: process.env.TABLE_NAME, where: `AWS ${settings.region}` };
}

/** The endpoint of the local stage's DynamoDB Local. */
export function localEndpoint(): string {
  const named = process.env.DYNAMODB_ENDPOINT;
  if (named) {
    if (!isLoopback(named)) {
      throw new StageError(`the local stage is DynamoDB Local on this machine; DYNAMODB_ENDPOINT=${named} is not a loopback address`);
    }
    return named;
  }
  const announced = readAnnouncement();
  if (!announced) throw new StageError('the local stage needs DynamoDB Local: start it with `npm start` in another terminal');
  return announced.endpoint;
}

interface Announcement {
  endpoint: string;
  pid: number;
}

function readAnnouncement(): Announcement | undefined {
  let announced: Announcement;
  try {
    announced = JSON.parse(readFileSync(localStageFile(), 'utf8')) as Announcement;
  } catch {
    return undefined;
  }
  // A file left by an `npm start` that was killed outright names a DynamoDB Local that is gone.
  return typeof announced.endpoint === 'string' && isRunning(announced.pid) ? announced : undefined;
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function isLoopback(endpoint: string): boolean {
  try {
    const host = new URL(endpoint).hostname;
    return host === 'localhost' || host === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(host);
  } catch {
    return false;
  }
}

/** Written by `npm start` once DynamoDB Local answers; removed when it stops. */
export function announceLocalStage(endpoint: string): void {
  mkdirSync(dirname(localStageFile()), { recursive: true });
  writeFileSync(localStageFile(), JSON.stringify({ endpoint, pid: process.pid }) + '\n');
}

export function withdrawLocalStage(): void {
  try {
    const announced = JSON.parse(readFileSync(localStageFile(), 'utf8')) as Announcement;
    if (announced.pid === process.pid) rmSync(localStageFile(), { force: true });
  } catch {
    // Nothing announced, or another start's file: leave it.
  }
}
