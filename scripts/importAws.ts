// Imports at scale from the operator's machine (README, "At scale, in AWS"):
//
//   npm run import -- --stage <stage> --aws --org <orgId> [--till CODE] [--job ID] <file.jsonl>
//   npm run import -- --stage <stage> --follow <execution ARN>
//
// The stack `loyalty-customers-<stage>` names the import bucket and the importMembers state
// machine in its outputs. A start uploads the file to imports/<job>.jsonl (multipart, the bucket's
// default encryption, the file's sha256 in the object's metadata), starts a run with the input
// {"key", "orgId", "job", "till"?} under a name of its own, and follows it; --follow only follows.
// Following is a poll every few seconds: DescribeExecution for the status, and once the
// ImportLines Distributed Map has a map run, DescribeMapRun for its counts of batches.
//
// Names: Step Functions refuses an execution name for 90 days, so the job is an input and the
// name is `<job>-<UTC second>-<4 random hex>` (dots made underscores, the job cut to fit 80
// characters); a name already taken is tried again with another suffix. Guards before the upload,
// which replaces the job's object: a running run of the job is refused (its batches insist on the
// object's version they planned, so they would fail), and so is a job whose object was uploaded
// for another file (its lines would replay that file's idempotency records). The second guard
// lasts as long as the object (7 days), not as long as the records (30).
//
// Exit 0 when the run succeeded, 1 when it did not or AWS refused (one line each), 130 after
// Ctrl-C (following stops; the run goes on in AWS), 2 for bad flags, before any request.

import { randomBytes } from 'node:crypto';
import { createReadStream, statSync } from 'node:fs';
import { basename } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { HeadObjectCommand, S3Client, type HeadObjectCommandOutput } from '@aws-sdk/client-s3';
import {
  DescribeExecutionCommand,
  DescribeMapRunCommand,
  ListExecutionsCommand,
  ListMapRunsCommand,
  SFNClient,
  StartExecutionCommand,
  type DescribeExecutionOutput,
  type MapRunItemCounts,
} from '@aws-sdk/client-sfn';
import { Upload } from '@aws-sdk/lib-storage';
import { SingleBar } from 'cli-progress';
import stages from '../config/stages.json';
import { checkJob, hashOfFile, jobOfHash } from '../lib/import/job';
import { UsageError } from './cli';
import { useStage } from './stage';

/** Upload a file and start a run of it. */
export interface StartFlags {
  stage: string;
  orgId: number;
  till?: string;
  job?: string;
  file: string;
}

/** Follow a run already started. */
export interface FollowFlags {
  stage: string;
  follow: string;
}

export type AwsFlags = StartFlags | FollowFlags;

export interface AwsClients {
  cloudFormation: CloudFormationClient;
  s3: S3Client;
  sfn: SFNClient;
}

export interface AwsIo {
  /** The lines a script may read: uploaded, started, the summary. */
  out(line: string): void;
  /** Progress as plain lines, and the one line of a failure. */
  err(line: string): void;
  /** A terminal for progress bars; without one, progress is plain lines on `err`. */
  terminal?: NodeJS.WriteStream;
  now(): number;
  sleep(ms: number, signal: AbortSignal): Promise<void>;
  /** Ctrl-C: aborted, following stops (the run goes on). */
  signal: AbortSignal;
  /** Between two polls of the run. */
  pollMs: number;
  /** Plain progress lines: at most one this often, and one at least every minute. */
  plainEveryMs: number;
}

/** AWS refused or failed a request, or the stack is not what the command needs: one line. */
export class AwsImportError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AwsImportError';
  }
}

const MiB = 1024 * 1024;
const NAME_LENGTH = 80;
const MAX_CAUSE = 500;
const EXECUTION_ARN = /^arn:(aws[a-z-]*):states:([a-z0-9-]+):(\d{12}):execution:([A-Za-z0-9_-]{1,80}):([A-Za-z0-9_-]{1,80})$/;

/** Uploads and starts, or follows; the exit status. */
export async function runInAws(flags: AwsFlags, clients: Partial<AwsClients> = {}, io: Partial<AwsIo> = {}): Promise<number> {
  const region = regionOf(flags.stage);
  if ('file' in flags) checkFile(flags.file);
  if ('job' in flags && flags.job !== undefined) usage(() => checkJob(flags.job!));
  if ('follow' in flags) checkExecution(flags.follow, flags.stage, region);
  const aws: AwsClients = {
    cloudFormation: clients.cloudFormation ?? new CloudFormationClient({ region }),
    s3: clients.s3 ?? new S3Client({ region }),
    sfn: clients.sfn ?? new SFNClient({ region }),
  };
  const ours: AwsIo = { ...defaultIo(), ...io };
  const stack = await stackOf(aws.cloudFormation, flags.stage, region);
  if ('follow' in flags) {
    checkStateMachine(flags.follow, stack);
    ours.out(`following ${flags.follow}`);
    return follow(aws.sfn, flags.follow, stack, ours);
  }
  return start(aws, flags, stack, ours);
}

interface Stack {
  stage: string;
  region: string;
  bucket: string;
  stateMachineArn: string;
}

function regionOf(stage: string): string {
  if (stage === 'local')
    throw new UsageError('the local stage has no Step Functions; import into local without --aws (or give a regional --stage)');
  usage(() => useStage(stage));
  return (stages as unknown as Record<string, { region: string }>)[stage].region;
}

/** Runs a check whose failure is a bad command line (a StageError, an ImportError of the job). */
function usage<T>(check: () => T): T {
  try {
    return check();
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

function checkFile(file: string): { path: string; size: number } {
  let stats;
  try {
    stats = statSync(file);
  } catch {
    throw new UsageError(`no such file: ${file}`);
  }
  if (!stats.isFile()) throw new UsageError(`not a file: ${file}`);
  return { path: file, size: stats.size };
}

function checkExecution(arn: string, stage: string, region: string): void {
  const parts = EXECUTION_ARN.exec(arn);
  if (!parts) throw new UsageError(`${arn} is not an execution ARN (arn:aws:states:<region>:<account>:execution:<state machine>:<name>)`);
  if (parts[2] !== region) throw new UsageError(`${arn} is in ${parts[2]}, stage ${stage} in ${region}`);
}

function checkStateMachine(arn: string, stack: Stack): void {
  const [, partition, region, account, machine] = EXECUTION_ARN.exec(arn)!;
  if (`arn:${partition}:states:${region}:${account}:stateMachine:${machine}` !== stack.stateMachineArn) {
    throw new AwsImportError(`${arn} is not a run of stage ${stack.stage}'s state machine ${stack.stateMachineArn}`);
  }
}

async function stackOf(cloudFormation: CloudFormationClient, stage: string, region: string): Promise<Stack> {
  const name = `loyalty-customers-${stage}`;
  const answer = await aws(
    `reading stack ${name} in ${region}`,
    () => cloudFormation.send(new DescribeStacksCommand({ StackName: name })),
    (error) =>
      error.name === 'ValidationError' && /does not exist/.test(error.message)
        ? `stack ${name} does not exist in ${region}: deploy the stage first (npx serverless deploy --stage ${stage})`
        : undefined,
  );
  const outputs = new Map((answer.Stacks?.[0]?.Outputs ?? []).map((output) => [output.OutputKey, output.OutputValue]));
  const missing = ['ImportBucketName', 'ImportStateMachineArn'].filter((key) => !outputs.get(key));
  if (missing.length > 0) {
    throw new AwsImportError(
      `stack ${name} in ${region} has no output ${missing.join(' or ')}: deploy the stage again (npx serverless deploy --stage ${stage})`,
    );
  }
  return { stage, region, bucket: outputs.get('ImportBucketName')!, stateMachineArn: outputs.get('ImportStateMachineArn')! };
}

// ---- a start

async function start(aws: AwsClients, flags: StartFlags, stack: Stack, io: AwsIo): Promise<number> {
  const { size } = checkFile(flags.file);
  const hash = await hashOfFile(flags.file);
  const job = flags.job ?? jobOfHash(hash);
  const key = `imports/${job}.jsonl`;
  if (io.signal.aborted) return stoppedBeforeStart(io);
  await refuseRunningJob(aws.sfn, job, stack);
  await refuseAnotherFile(aws.s3, job, key, hash, stack);
  if (io.signal.aborted) return stoppedBeforeStart(io);
  if (!(await upload(aws.s3, flags.file, size, key, hash, stack, io))) return stoppedBeforeStart(io);
  io.out(`uploaded ${basename(flags.file)} (${bytes(size)}) to s3://${stack.bucket}/${key}`);
  if (io.signal.aborted) return stoppedBeforeStart(io);
  const input = JSON.stringify({ key, orgId: flags.orgId, job, ...(flags.till === undefined ? {} : { till: flags.till }) });
  const arn = await startRun(aws.sfn, job, input, stack, io);
  io.out(`started ${arn}`);
  return follow(aws.sfn, arn, stack, io, job);
}

function stoppedBeforeStart(io: AwsIo): number {
  io.err('import: stopped before a run was started; nothing runs in AWS');
  return 130;
}

/** `<job>-<yyyymmddThhmmssZ>-<4 hex>`: only letters, digits, - and _, at most 80 characters. */
function executionName(job: string, at: number): string {
  const stamp = new Date(at)
    .toISOString()
    .replace(/\.\d{3}/, '')
    .replace(/[-:]/g, '');
  const random = randomBytes(2).toString('hex');
  const head = job.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, NAME_LENGTH - stamp.length - random.length - 2);
  return `${head}-${stamp}-${random}`;
}

async function startRun(sfn: SFNClient, job: string, input: string, stack: Stack, io: AwsIo): Promise<string> {
  for (let attempt = 1; ; attempt++) {
    const name = executionName(job, io.now());
    try {
      const started = await sfn.send(new StartExecutionCommand({ stateMachineArn: stack.stateMachineArn, name, input }));
      return started.executionArn!;
    } catch (error) {
      if ((error as Error).name === 'ExecutionAlreadyExists' && attempt < 5) continue;
      throw new AwsImportError(describeAwsError(`starting a run of ${stack.stateMachineArn}`, error as Error));
    }
  }
}

async function refuseRunningJob(sfn: SFNClient, job: string, stack: Stack): Promise<void> {
  const prefix = executionName(job, 0).replace(/-\d{8}T\d{6}Z-[0-9a-f]{4}$/, '');
  const ours = new RegExp(`^${prefix}-\\d{8}T\\d{6}Z-[0-9a-f]{4}$`);
  let nextToken: string | undefined;
  do {
    const page = await aws(`listing the running runs of ${stack.stateMachineArn}`, () =>
      sfn.send(new ListExecutionsCommand({ stateMachineArn: stack.stateMachineArn, statusFilter: 'RUNNING', nextToken })),
    );
    for (const execution of page.executions ?? []) {
      if (!execution.name || !ours.test(execution.name)) continue;
      // A name cut to 80 characters may be another job's: the input says.
      const running = await aws(`reading run ${execution.executionArn}`, () =>
        sfn.send(new DescribeExecutionCommand({ executionArn: execution.executionArn })),
      );
      if (jobOf(running) !== job || running.status !== 'RUNNING') continue;
      throw new AwsImportError(
        `job ${job} is running in ${execution.executionArn}; follow it (${followCommand(stack, execution.executionArn!)}) or wait for it to end`,
      );
    }
    nextToken = page.nextToken;
  } while (nextToken);
}

async function refuseAnotherFile(s3: S3Client, job: string, key: string, hash: string, stack: Stack): Promise<void> {
  let head: HeadObjectCommandOutput | undefined;
  try {
    head = await s3.send(new HeadObjectCommand({ Bucket: stack.bucket, Key: key }));
  } catch (error) {
    if ((error as Error).name !== 'NotFound')
      throw new AwsImportError(describeAwsError(`reading s3://${stack.bucket}/${key}`, error as Error));
  }
  const before = head?.Metadata?.sha256;
  if (before === undefined || before === hash) return;
  const when = head?.LastModified ? ` on ${head.LastModified.toISOString()}` : '';
  throw new AwsImportError(
    `job ${job} was uploaded for another file (sha256 ${before.slice(0, 12)}…)${when}; its lines would replay that file's records: give another --job`,
  );
}

/** True once uploaded, false when Ctrl-C stopped it. */
async function upload(s3: S3Client, file: string, size: number, key: string, hash: string, stack: Stack, io: AwsIo): Promise<boolean> {
  const upload = new Upload({
    client: s3,
    params: {
      Bucket: stack.bucket,
      Key: key,
      Body: createReadStream(file),
      ContentType: 'application/x-ndjson',
      Metadata: { sha256: hash },
    },
    // S3 takes at most 10,000 parts.
    partSize: Math.max(8 * MiB, Math.ceil(size / 9_000)),
    queueSize: 4,
  });
  const progress = uploadProgressFor(io, basename(file), size);
  upload.on('httpUploadProgress', (event) => progress.update(event.loaded ?? 0));
  const stop = () => void upload.abort();
  io.signal.addEventListener('abort', stop, { once: true });
  try {
    await upload.done();
    return true;
  } catch (error) {
    if (io.signal.aborted) return false;
    throw new AwsImportError(describeAwsError(`uploading ${file} to s3://${stack.bucket}/${key}`, error as Error));
  } finally {
    io.signal.removeEventListener('abort', stop);
    progress.stop();
  }
}

// ---- following a run

const RUNNING = new Set(['RUNNING', 'PENDING_REDRIVE']);

async function follow(sfn: SFNClient, arn: string, stack: Stack, io: AwsIo, knownJob?: string): Promise<number> {
  const goesOn = `the run goes on in AWS; follow it again: ${followCommand(stack, arn)}`;
  const progress = runProgressFor(io);
  let mapRunArn: string | undefined;
  let counts: MapRunItemCounts | undefined;
  let execution: DescribeExecutionOutput | undefined;
  try {
    for (;;) {
      if (io.signal.aborted) {
        progress.stop();
        io.err(`import: stopped following; the run goes on in AWS: ${arn}`);
        io.err(`import: follow it again: ${followCommand(stack, arn)}`);
        return 130;
      }
      execution = await aws(`reading run ${arn}`, () => sfn.send(new DescribeExecutionCommand({ executionArn: arn })), undefined, goesOn);
      mapRunArn ??= await aws(
        `reading the map run of ${arn}`,
        async () => (await sfn.send(new ListMapRunsCommand({ executionArn: arn }))).mapRuns?.[0]?.mapRunArn,
        undefined,
        goesOn,
      );
      if (mapRunArn) {
        const mapRun = mapRunArn;
        counts = await aws(
          `reading map run ${mapRun}`,
          async () => (await sfn.send(new DescribeMapRunCommand({ mapRunArn: mapRun }))).itemCounts,
          undefined,
          goesOn,
        );
      }
      if (!RUNNING.has(execution.status ?? '')) break;
      progress.update(counts, io.now() - (execution.startDate?.getTime() ?? io.now()));
      await io.sleep(io.pollMs, io.signal).catch(() => undefined);
    }
  } finally {
    progress.stop();
  }
  return summarize(execution!, arn, counts, stack, io, knownJob ?? jobOf(execution!));
}

function summarize(
  execution: DescribeExecutionOutput,
  arn: string,
  counts: MapRunItemCounts | undefined,
  stack: Stack,
  io: AwsIo,
  job: string | undefined,
): number {
  const status = execution.status ?? 'UNKNOWN';
  const startMs = execution.startDate?.getTime() ?? io.now();
  const elapsed = duration((execution.stopDate?.getTime() ?? io.now()) - startMs);
  const batches = counts
    ? `${counts.succeeded ?? 0} of ${counts.total ?? 0} batches succeeded, ${failedOf(counts)} failed`
    : 'no batch ran';
  const manifest = manifestOf(execution.output);
  const results = counts
    ? `s3://${stack.bucket}/results/${job === undefined ? '' : `${job}/`}${manifest ? ` (manifest: ${manifest})` : ''}`
    : 'none';
  io.out(`import ${status} in ${elapsed}: ${batches}${job === undefined ? '' : ` (job ${job})`}; results: ${results}`);
  if (status === 'SUCCEEDED') return 0;
  const cause = execution.cause ? `: ${oneLine(execution.cause, MAX_CAUSE)}` : '';
  io.err(`import: run ${arn} ${status}: ${execution.error || 'no error given'}${cause}`);
  return 1;
}

function failedOf(counts: MapRunItemCounts): number {
  return (counts.failed ?? 0) + (counts.timedOut ?? 0) + (counts.aborted ?? 0);
}

function jobOf(execution: DescribeExecutionOutput): string | undefined {
  try {
    const job = (JSON.parse(execution.input ?? '') as { job?: unknown }).job;
    return typeof job === 'string' ? job : undefined;
  } catch {
    return undefined;
  }
}

/** The map's ResultWriter manifest, from a succeeded run's output (ResultPath $.mapRun). */
function manifestOf(output: string | undefined): string | undefined {
  try {
    const details = (JSON.parse(output ?? '') as { mapRun?: { ResultWriterDetails?: { Bucket?: string; Key?: string } } }).mapRun
      ?.ResultWriterDetails;
    return details?.Bucket && details.Key ? `s3://${details.Bucket}/${details.Key}` : undefined;
  } catch {
    return undefined;
  }
}

function followCommand(stack: Stack, arn: string): string {
  return `npm run import -- --stage ${stack.stage} --follow ${arn}`;
}

// ---- AWS's errors, one line each

async function aws<T>(doing: string, call: () => Promise<T>, explain?: (error: Error) => string | undefined, then?: string): Promise<T> {
  try {
    return await call();
  } catch (error) {
    const line = explain?.(error as Error) ?? describeAwsError(doing, error as Error);
    throw new AwsImportError(then ? `${line}; ${then}` : line);
  }
}

function describeAwsError(doing: string, error: Error): string {
  const { name } = error;
  const message = oneLine(error.message || name, MAX_CAUSE);
  const code = (error as NodeJS.ErrnoException).code;
  const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
  if (name === 'CredentialsProviderError' || name === 'CredentialsError') {
    return `${doing}: no AWS credentials (${message}); sign in (aws sso login, AWS_PROFILE) and run again`;
  }
  if (/^(ExpiredToken|ExpiredTokenException|InvalidClientTokenId|UnrecognizedClientException|InvalidSignatureException)$/.test(name)) {
    return `${doing}: AWS refused the credentials (${name}: ${message}); sign in again and run again`;
  }
  if (/AccessDenied|UnauthorizedOperation|AuthorizationError/.test(name) || status === 403) {
    return `${doing}: access denied (${message})`;
  }
  if (name === 'ExecutionDoesNotExist') return `${doing}: no such run (${message})`;
  if (code && /^(ENOTFOUND|ECONNREFUSED|ECONNRESET|ETIMEDOUT|EAI_AGAIN|ENETUNREACH)$/.test(code))
    return `${doing}: cannot reach AWS (${message})`;
  if (name === 'TimeoutError') return `${doing}: cannot reach AWS (${message})`;
  return `${doing}: ${name}: ${message}`;
}

function oneLine(text: string, max: number): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}

// ---- progress: a bar on a terminal, plain lines otherwise (as lib/import/progress.ts)

interface UploadProgress {
  update(loadedBytes: number): void;
  stop(): void;
}

function uploadProgressFor(io: AwsIo, name: string, size: number): UploadProgress {
  if (io.terminal?.isTTY) {
    const bar = new SingleBar({
      stream: io.terminal,
      format: 'upload |{bar}| {percentage}% | {sent} of {size} | ETA {eta_formatted}',
      barsize: 30,
      hideCursor: true,
      fps: 5,
    });
    bar.start(Math.max(size, 1), 0, { sent: bytes(0), size: bytes(size) });
    return { update: (loaded) => bar.update(loaded, { sent: bytes(loaded) }), stop: () => bar.stop() };
  }
  let last = io.now();
  return {
    update: (loaded) => {
      if (io.now() - last < io.plainEveryMs || loaded >= size) return;
      last = io.now();
      io.err(`import: uploading ${name}: ${Math.floor((100 * loaded) / Math.max(size, 1))}% of ${bytes(size)}`);
    },
    stop: () => {},
  };
}

interface RunProgress {
  /** The map run's counts, or undefined while the batches are being planned. */
  update(counts: MapRunItemCounts | undefined, elapsedMs: number): void;
  stop(): void;
}

function runProgressFor(io: AwsIo): RunProgress {
  return io.terminal?.isTTY ? new RunBar(io.terminal) : new RunLines(io);
}

function describeBatches(counts: MapRunItemCounts | undefined): string {
  if (!counts) return 'planning the batches';
  return `${(counts.succeeded ?? 0) + failedOf(counts)} of ${counts.total ?? 0} batches done, ${failedOf(counts)} failed`;
}

class RunBar implements RunProgress {
  private readonly bar: SingleBar;
  private started = false;

  constructor(stream: NodeJS.WriteStream) {
    this.bar = new SingleBar({ stream, format: 'import |{bar}| {batches} | {elapsed}', barsize: 30, hideCursor: true, fps: 5 });
  }

  update(counts: MapRunItemCounts | undefined, elapsedMs: number): void {
    const total = Math.max(counts?.total ?? 1, 1);
    const done = counts ? (counts.succeeded ?? 0) + failedOf(counts) : 0;
    const payload = { batches: describeBatches(counts), elapsed: duration(elapsedMs) };
    if (!this.started) {
      this.started = true;
      this.bar.start(total, done, payload);
      return;
    }
    this.bar.setTotal(total);
    this.bar.update(done, payload);
  }

  stop(): void {
    if (this.started) this.bar.stop();
    this.started = false;
  }
}

class RunLines implements RunProgress {
  private lastText: string | undefined;
  private lastAt = 0;

  constructor(private readonly io: AwsIo) {}

  update(counts: MapRunItemCounts | undefined, elapsedMs: number): void {
    const text = describeBatches(counts);
    const since = this.io.now() - this.lastAt;
    const due = this.lastText === undefined || (text !== this.lastText && since >= this.io.plainEveryMs) || since >= 60_000;
    if (!due) return;
    this.lastText = text;
    this.lastAt = this.io.now();
    this.io.err(`import: ${text} (${duration(elapsedMs)})`);
  }

  stop(): void {}
}

function duration(ms: number): string {
  const seconds = Math.max(0, Math.round(ms / 1000));
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = String(seconds % 60).padStart(2, '0');
  return h > 0 ? `${h}h${String(m).padStart(2, '0')}m${s}s` : `${m}m${s}s`;
}

function bytes(n: number): string {
  if (n < 1000) return `${n} B`;
  if (n < 1e6) return `${(n / 1e3).toFixed(1)} kB`;
  if (n < 1e9) return `${(n / 1e6).toFixed(1)} MB`;
  return `${(n / 1e9).toFixed(2)} GB`;
}

function defaultIo(): AwsIo {
  return {
    out: (line) => console.log(line),
    err: (line) => console.error(line),
    terminal: process.stderr.isTTY ? process.stderr : undefined,
    now: () => Date.now(),
    sleep: (ms, signal) => delay(ms, undefined, { signal }),
    signal: new AbortController().signal,
    pollMs: 5000,
    plainEveryMs: 5000,
  };
}
