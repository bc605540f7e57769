import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CloudFormationClient, CloudFormationServiceException, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import {
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  HeadObjectCommand,
  NotFound,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import {
  DescribeExecutionCommand,
  DescribeMapRunCommand,
  ExecutionAlreadyExists,
  ListExecutionsCommand,
  ListMapRunsCommand,
  SFNClient,
  SFNServiceException,
  StartExecutionCommand,
  StopExecutionCommand,
  type ExecutionStatus,
  type MapRunItemCounts,
} from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { importCommand } from '../../scripts/import';

// `npm run import -- --stage <stage> --aws`: the members' file goes to the stage's import bucket,
// a run of the stage's importMembers state machine starts under a name of its own, and the
// command follows it until it ends. AWS is three mocked clients playing the deployed stack: the
// stack's outputs, the bucket, and a state machine whose run moves on one step per poll.

const STACK = 'loyalty-customers-emea';
const BUCKET = 'loyalty-customers-emea-importbucket-1a2b3c';
const STATE_MACHINE = 'arn:aws:states:eu-west-1:123456789012:stateMachine:loyalty-customers-emea-importMembers';
const EXECUTIONS = 'arn:aws:states:eu-west-1:123456789012:execution:loyalty-customers-emea-importMembers';
const MAP_RUN = 'arn:aws:states:eu-west-1:123456789012:mapRun:loyalty-customers-emea-importMembers/ImportLines:6f1c';
const T0 = Date.UTC(2026, 10, 1, 9, 30, 0);
const NAME = /^[A-Za-z0-9_-]{1,80}$/;

/** One poll's view of the run: its status, and the map run's counts once the map has started. */
interface Step {
  status: ExecutionStatus;
  batches?: Partial<MapRunItemCounts>;
  error?: string;
  cause?: string;
  output?: unknown;
}

const counts = (c: Partial<MapRunItemCounts>): MapRunItemCounts => ({
  pending: 0,
  running: 0,
  succeeded: 0,
  failed: 0,
  timedOut: 0,
  aborted: 0,
  total: 0,
  resultsWritten: 0,
  ...c,
});

const SUCCEEDED_OUTPUT = {
  key: 'imports/members-2026-11.jsonl',
  orgId: 100,
  job: 'members-2026-11',
  till: null,
  mapRun: {
    MapRunArn: MAP_RUN,
    ResultWriterDetails: { Bucket: BUCKET, Key: 'results/members-2026-11/6f1c/manifest.json' },
  },
};

/** A run that plans, then goes through four batches, then succeeds. */
const SUCCEEDING: Step[] = [
  { status: 'RUNNING' },
  { status: 'RUNNING', batches: { total: 4, pending: 4 } },
  { status: 'RUNNING', batches: { total: 4, succeeded: 2, running: 2 } },
  { status: 'SUCCEEDED', batches: { total: 4, succeeded: 4, resultsWritten: 4 }, output: SUCCEEDED_OUTPUT },
];

const cloudFormation = mockClient(CloudFormationClient);
const s3 = mockClient(S3Client);
const sfn = mockClient(SFNClient);

let dir: string;
const saved: Record<string, string | undefined> = {};
const SHELL = ['DYNAMODB_ENDPOINT', 'AWS_REGION', 'STAGE'];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'import-aws-'));
  // A regional stage is AWS in the stage's region: the test shell's DynamoDB Local and region would be refused.
  for (const name of SHELL) {
    saved[name] = process.env[name];
    delete process.env[name];
  }
  cloudFormation.reset();
  s3.reset();
  sfn.reset();
  cloudFormation.on(DescribeStacksCommand, { StackName: STACK }).resolves({
    Stacks: [
      {
        StackName: STACK,
        StackStatus: 'UPDATE_COMPLETE',
        CreationTime: new Date(T0 - 86_400_000),
        Outputs: [
          { OutputKey: 'CustomersTableName', OutputValue: STACK },
          { OutputKey: 'ImportBucketName', OutputValue: BUCKET },
          { OutputKey: 'ImportStateMachineArn', OutputValue: STATE_MACHINE },
        ],
      },
    ],
  });
  s3.on(HeadObjectCommand).rejects(new NotFound({ message: 'Not Found', $metadata: { httpStatusCode: 404 } }));
  s3.on(PutObjectCommand).resolves({ ETag: '"9b2cf535f27731c974343645a3985328"' });
  sfn.on(ListExecutionsCommand).resolves({ executions: [] });
});

afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
  for (const name of SHELL) {
    if (saved[name] === undefined) delete process.env[name];
    else process.env[name] = saved[name];
  }
});

const MEMBERS = ['{"source":"INSTORE","profiles":[]}', '{"source":"INSTORE","profiles":[]}', ''].join('\n');

function membersFile(name = 'members.jsonl', content = MEMBERS): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

/** Every execution name Step Functions has seen in a test: it refuses them for 90 days. */
const taken = new Set<string>();
beforeEach(() => taken.clear());

/**
 * Plays Step Functions: StartExecution refuses a name it has already seen, and each poll of a run
 * sees the next step of `steps` (the last one stays).
 */
function playRun(steps: Step[], onPoll: (poll: number) => void = () => {}, takenNext = 0) {
  const names: string[] = [];
  const inputs: unknown[] = [];
  let poll = 0;
  const step = () => steps[Math.min(poll, steps.length - 1)];
  sfn.on(StartExecutionCommand).callsFake((input: { name: string; input: string }) => {
    if (takenNext > 0) {
      // As if another start had taken this very name (same job, second and suffix).
      takenNext -= 1;
      taken.add(input.name);
    }
    if (taken.has(input.name)) throw new ExecutionAlreadyExists({ message: `Execution Already Exists: '${input.name}'`, $metadata: {} });
    taken.add(input.name);
    names.push(input.name);
    inputs.push(JSON.parse(input.input));
    return { executionArn: `${EXECUTIONS}:${input.name}`, startDate: new Date(T0) };
  });
  sfn.on(DescribeExecutionCommand).callsFake(({ executionArn }: { executionArn: string }) => {
    const { status, error, cause, output } = step();
    return {
      executionArn,
      stateMachineArn: STATE_MACHINE,
      name: executionArn.split(':').pop(),
      status,
      startDate: new Date(T0),
      stopDate: status === 'RUNNING' ? undefined : new Date(T0 + 15_000),
      input: JSON.stringify(inputs[inputs.length - 1] ?? { key: 'imports/members-2026-11.jsonl', orgId: 100, job: 'members-2026-11' }),
      output: output === undefined ? undefined : JSON.stringify(output),
      error,
      cause,
    };
  });
  sfn.on(ListMapRunsCommand).callsFake(({ executionArn }: { executionArn: string }) => ({
    mapRuns: step().batches ? [{ executionArn, mapRunArn: MAP_RUN, stateMachineArn: STATE_MACHINE, startDate: new Date(T0) }] : [],
  }));
  sfn.on(DescribeMapRunCommand).callsFake(() => ({ mapRunArn: MAP_RUN, itemCounts: counts(step().batches ?? {}) }));
  return {
    names,
    inputs,
    advance: () => {
      poll += 1;
      onPoll(poll);
    },
  };
}

interface RunOptions {
  /** Ctrl-C while waiting for this poll. */
  ctrlCAtPoll?: number;
  /** This many names of the next starts are taken already. */
  takenNext?: number;
  /** Changes to AWS's answers, after the run is set up. */
  aws?: () => void;
}

/** Runs the command as `npm run import -- <argv>` would, with the mocked clients and a fake clock. */
async function run(argv: string[], steps: Step[] = SUCCEEDING, options: RunOptions = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const ctrlC = new AbortController();
  let now = T0;
  const played = playRun(
    steps,
    (poll) => {
      if (poll === options.ctrlCAtPoll) ctrlC.abort();
    },
    options.takenNext,
  );
  options.aws?.();
  const code = await importCommand(argv, {
    aws: {
      cloudFormation: new CloudFormationClient({ region: 'eu-west-1' }),
      s3: new S3Client({ region: 'eu-west-1' }),
      sfn: new SFNClient({ region: 'eu-west-1' }),
    },
    io: {
      out: (line) => out.push(line),
      err: (line) => err.push(line),
      now: () => now,
      sleep: async (ms) => {
        now += ms;
        played.advance();
      },
      signal: ctrlC.signal,
      pollMs: 5000,
    },
  });
  return { code, out, err, names: played.names, inputs: played.inputs };
}

const requestsSent = () => cloudFormation.calls().length + s3.calls().length + sfn.calls().length;

describe('npm run import -- --stage emea --aws: upload, start, follow', () => {
  test("uploads the file to imports/<job>.jsonl of the stack's bucket", async () => {
    const file = membersFile();
    const { code, out } = await run(['--stage', 'emea', '--aws', '--org', '100', '--job', 'members-2026-11', file]);
    expect(code).toBe(0);
    const puts = s3.commandCalls(PutObjectCommand);
    expect(puts).toHaveLength(1);
    expect(puts[0].args[0].input).toMatchObject({ Bucket: BUCKET, Key: 'imports/members-2026-11.jsonl' });
    // The bucket's default encryption applies: the command asks for none of its own.
    expect(puts[0].args[0].input.ServerSideEncryption).toBeUndefined();
    expect(out[0]).toBe(`uploaded members.jsonl (${MEMBERS.length} B) to s3://${BUCKET}/imports/members-2026-11.jsonl`);
  });

  test('a large file goes up in parts to the same key, with its sha256 beside it', async () => {
    s3.on(CreateMultipartUploadCommand).resolves({ UploadId: 'u1' });
    s3.on(UploadPartCommand).resolves({ ETag: '"p"' });
    s3.on(CompleteMultipartUploadCommand).resolves({ Bucket: BUCKET, Key: 'imports/big.jsonl' });
    const line = '{"source":"INSTORE","profiles":[]}\n';
    const content = line.repeat(Math.ceil((17 * 1024 * 1024) / line.length));
    const { code } = await run(['--stage', 'emea', '--aws', '--org', '100', '--job', 'big', membersFile('big.jsonl', content)]);
    expect(code).toBe(0);
    expect(s3.commandCalls(PutObjectCommand)).toHaveLength(0);
    expect(s3.commandCalls(CreateMultipartUploadCommand)[0].args[0].input).toMatchObject({
      Bucket: BUCKET,
      Key: 'imports/big.jsonl',
      Metadata: { sha256: createHash('sha256').update(content).digest('hex') },
    });
    const parts = s3.commandCalls(UploadPartCommand).map((call) => call.args[0].input);
    expect(parts.map((part) => part.PartNumber)).toEqual([1, 2, 3]);
    expect(parts.every((part) => part.Key === 'imports/big.jsonl')).toBe(true);
    expect(s3.commandCalls(CompleteMultipartUploadCommand)).toHaveLength(1);
  });

  test("starts the stack's state machine with the key, org and job as input, and no till when none is given", async () => {
    const { code, inputs, names } = await run(['--stage', 'emea', '--aws', '--org', '100', '--job', 'members-2026-11', membersFile()]);
    expect(code).toBe(0);
    const start = sfn.commandCalls(StartExecutionCommand)[0].args[0].input;
    expect(start.stateMachineArn).toBe(STATE_MACHINE);
    expect(start.input).toBe('{"key":"imports/members-2026-11.jsonl","orgId":100,"job":"members-2026-11"}');
    expect(inputs).toEqual([{ key: 'imports/members-2026-11.jsonl', orgId: 100, job: 'members-2026-11' }]);
    expect(names[0]).toMatch(/^members-2026-11-20261101T093000Z-[0-9a-f]{4}$/);
  });

  test('with --till the input carries the till', async () => {
    await run(['--stage', 'emea', '--aws', '--org', '100', '--till', 'store.1', '--job', 'members-2026-11', membersFile()]);
    expect(sfn.commandCalls(StartExecutionCommand)[0].args[0].input.input).toBe(
      '{"key":"imports/members-2026-11.jsonl","orgId":100,"job":"members-2026-11","till":"store.1"}',
    );
  });

  test("without --job the job is the hash of the file's content, as in the table import", async () => {
    const job = createHash('sha256').update(MEMBERS).digest('hex').slice(0, 24);
    await run(['--stage', 'emea', '--aws', '--org', '100', membersFile()]);
    expect(s3.commandCalls(PutObjectCommand)[0].args[0].input.Key).toBe(`imports/${job}.jsonl`);
    expect(JSON.parse(sfn.commandCalls(StartExecutionCommand)[0].args[0].input.input!)).toMatchObject({ job, key: `imports/${job}.jsonl` });
  });

  test("two starts of the same job at the same second get two valid names; a job's dots are not in them", async () => {
    const argv = ['--stage', 'emea', '--aws', '--org', '100', '--job', 'members.2026.11', membersFile()];
    const first = await run(argv);
    const second = await run(argv);
    expect([first.code, second.code]).toEqual([0, 0]);
    const names = [...first.names, ...second.names];
    expect(names).toHaveLength(2);
    expect(names[0]).not.toBe(names[1]);
    for (const name of names) expect(name).toMatch(NAME);
    for (const name of names) expect(name).toMatch(/^members_2026_11-20261101T093000Z-[0-9a-f]{4}$/);
  });

  test('a name Step Functions already has is not the end of a start: the next try is another name', async () => {
    const { code, out, names } = await run(
      ['--stage', 'emea', '--aws', '--org', '100', '--job', 'members-2026-11', membersFile()],
      SUCCEEDING,
      {
        takenNext: 1,
      },
    );
    expect(code).toBe(0);
    const tried = sfn.commandCalls(StartExecutionCommand).map((call) => call.args[0].input.name);
    expect(tried).toHaveLength(2);
    expect(tried[0]).not.toBe(tried[1]);
    expect(names).toEqual([tried[1]]);
    expect(out).toContain(`started ${EXECUTIONS}:${tried[1]}`);
  });

  test('a long job is cut to fit the 80 characters of a name', async () => {
    const job = 'j'.repeat(64);
    const { code, names } = await run(['--stage', 'emea', '--aws', '--org', '100', '--job', job, membersFile()]);
    expect(code).toBe(0);
    expect(names[0]).toMatch(NAME);
    expect(names[0]).toHaveLength(80);
    expect(JSON.parse(sfn.commandCalls(StartExecutionCommand)[0].args[0].input.input!).job).toBe(job);
  });

  test('follows the run: planning, then batches done of total from the map run, then one summary line naming the results; exit 0', async () => {
    const { code, out, err, names } = await run(['--stage', 'emea', '--aws', '--org', '100', '--job', 'members-2026-11', membersFile()]);
    expect(code).toBe(0);
    expect(out).toEqual([
      expect.stringMatching(/^uploaded members\.jsonl /),
      `started ${EXECUTIONS}:${names[0]}`,
      `import SUCCEEDED in 0m15s: 4 of 4 batches succeeded, 0 failed (job members-2026-11); results: s3://${BUCKET}/results/members-2026-11/` +
        ` (manifest: s3://${BUCKET}/results/members-2026-11/6f1c/manifest.json)`,
    ]);
    expect(err).toEqual([
      'import: planning the batches (0m00s)',
      'import: 0 of 4 batches done, 0 failed (0m05s)',
      'import: 2 of 4 batches done, 0 failed (0m10s)',
    ]);
    // Polled every 5 s until the run ended, never stopped by the command.
    expect(sfn.commandCalls(DescribeExecutionCommand)).toHaveLength(4);
    expect(sfn.commandCalls(DescribeMapRunCommand)[0].args[0].input).toEqual({ mapRunArn: MAP_RUN });
  });

  test("a failed run: exit 1, the summary counts failed batches, and one line on stderr names the run and Step Functions' error and cause", async () => {
    const failing: Step[] = [
      { status: 'RUNNING', batches: { total: 40, succeeded: 30, failed: 2, timedOut: 1, running: 7 } },
      {
        status: 'FAILED',
        batches: { total: 40, succeeded: 35, failed: 4, timedOut: 1 },
        error: 'States.ExceedToleratedFailureThreshold',
        cause: 'The specified tolerated failure threshold\nwas exceeded',
      },
    ];
    const { code, out, err, names } = await run(
      ['--stage', 'emea', '--aws', '--org', '100', '--job', 'members-2026-11', membersFile()],
      failing,
    );
    expect(code).toBe(1);
    expect(err).toEqual([
      'import: 33 of 40 batches done, 3 failed (0m00s)',
      `import: run ${EXECUTIONS}:${names[0]} FAILED: States.ExceedToleratedFailureThreshold: The specified tolerated failure threshold was exceeded`,
    ]);
    expect(out[2]).toBe(
      `import FAILED in 0m15s: 35 of 40 batches succeeded, 5 failed (job members-2026-11); results: s3://${BUCKET}/results/members-2026-11/`,
    );
  });

  test('a run stopped before its map started: exit 1, no batches, and no results to look for', async () => {
    const { code, out, err } = await run(
      ['--stage', 'emea', '--aws', '--org', '100', '--job', 'j1', membersFile()],
      [{ status: 'ABORTED' }],
    );
    expect(code).toBe(1);
    expect(out[2]).toBe('import ABORTED in 0m15s: no batch ran (job j1); results: none');
    expect(err).toEqual([expect.stringMatching(/^import: run arn:aws:states:eu-west-1:\S+:j1-\S+ ABORTED: no error given$/)]);
  });

  test('Ctrl-C stops following, not the run: exit 130, the ARN and how to follow it again; nothing is sent to stop it', async () => {
    const { code, err, names } = await run(
      ['--stage', 'emea', '--aws', '--org', '100', '--job', 'members-2026-11', membersFile()],
      [{ status: 'RUNNING', batches: { total: 4, running: 4 } }],
      { ctrlCAtPoll: 2 },
    );
    const arn = `${EXECUTIONS}:${names[0]}`;
    expect(code).toBe(130);
    expect(err.slice(-2)).toEqual([
      `import: stopped following; the run goes on in AWS: ${arn}`,
      `import: follow it again: npm run import -- --stage emea --follow ${arn}`,
    ]);
    expect(sfn.commandCalls(StopExecutionCommand)).toHaveLength(0);
  });

  test('--follow <execution ARN> follows a run already started: no upload, no start, the same summary', async () => {
    const arn = `${EXECUTIONS}:members-2026-11-20261101T080000Z-ab12`;
    const { code, out } = await run(['--stage', 'emea', '--follow', arn]);
    expect(code).toBe(0);
    expect(s3.calls()).toHaveLength(0);
    expect(sfn.commandCalls(StartExecutionCommand)).toHaveLength(0);
    expect(sfn.commandCalls(DescribeExecutionCommand)[0].args[0].input).toMatchObject({ executionArn: arn });
    expect(out).toEqual([
      `following ${arn}`,
      expect.stringMatching(
        new RegExp(
          `^import SUCCEEDED in 0m15s: 4 of 4 batches succeeded, 0 failed \\(job members-2026-11\\); results: s3://${BUCKET}/results/members-2026-11/ `,
        ),
      ),
    ]);
  });

  test('a job already running is refused before the upload, which would fail its batches', async () => {
    const running = `${EXECUTIONS}:members-2026-11-20261101T080000Z-ab12`;
    sfn.on(ListExecutionsCommand).resolves({
      executions: [
        {
          executionArn: running,
          stateMachineArn: STATE_MACHINE,
          name: running.split(':').pop(),
          status: 'RUNNING',
          startDate: new Date(T0),
        },
      ],
    });
    const { code, err } = await run(
      ['--stage', 'emea', '--aws', '--org', '100', '--job', 'members-2026-11', membersFile()],
      [{ status: 'RUNNING' }],
    );
    expect(code).toBe(1);
    expect(err).toEqual([
      `import: job members-2026-11 is running in ${running}; follow it (npm run import -- --stage emea --follow ${running}) or wait for it to end`,
    ]);
    expect(s3.commandCalls(PutObjectCommand)).toHaveLength(0);
    expect(sfn.commandCalls(StartExecutionCommand)).toHaveLength(0);
  });

  test("a --job whose object in the bucket is another file's is refused: its lines would replay the other file's records", async () => {
    s3.on(HeadObjectCommand).resolves({ Metadata: { sha256: 'f'.repeat(64) }, LastModified: new Date(T0 - 3_600_000) });
    const { code, err } = await run(['--stage', 'emea', '--aws', '--org', '100', '--job', 'members-2026-11', membersFile()]);
    expect(code).toBe(1);
    expect(err).toEqual([
      expect.stringMatching(/^import: job members-2026-11 was uploaded for another file \(sha256 ffffffffffff…\).*another --job$/),
    ]);
    expect(s3.commandCalls(PutObjectCommand)).toHaveLength(0);
  });
});

describe('refusals: one line, exit 2, and not one request to AWS', () => {
  const file = () => membersFile();
  test.each([
    [
      'the local stage',
      () => ['--stage', 'local', '--aws', '--org', '100', file()],
      /the local stage has no Step Functions; import into local without --aws/,
    ],
    ['no stage (local by default)', () => ['--aws', '--org', '100', file()], /the local stage has no Step Functions/],
    [
      'a CSV file',
      () => ['--stage', 'emea', '--aws', '--org', '100', membersFile('members.csv', 'source\nINSTORE\n')],
      /--aws takes JSON Lines, not CSV/,
    ],
    ['--format csv', () => ['--stage', 'emea', '--aws', '--org', '100', '--format', 'csv', file()], /--aws takes JSON Lines, not CSV/],
    ['--rate', () => ['--stage', 'emea', '--aws', '--org', '100', '--rate', '100', file()], /--rate applies to the table import only/],
    [
      '--concurrency',
      () => ['--stage', 'emea', '--aws', '--org', '100', '--concurrency', '4', file()],
      /--concurrency applies to the table import only/,
    ],
    ['no --org', () => ['--stage', 'emea', '--aws', file()], /--org is required/],
    ['a missing file', () => ['--stage', 'emea', '--aws', '--org', '100', join(dir, 'nope.jsonl')], /no such file: .*nope\.jsonl/],
    ['no file', () => ['--stage', 'emea', '--aws', '--org', '100'], /no file given/],
    ['a bad --job', () => ['--stage', 'emea', '--aws', '--org', '100', '--job', 'a b', file()], /job "a b" must be 1 to 64 letters/],
    ['an unknown stage', () => ['--stage', 'mars', '--aws', '--org', '100', file()], /unknown stage mars/],
    [
      '--follow with a file',
      () => ['--stage', 'emea', '--follow', `${EXECUTIONS}:x`, file()],
      /--follow follows a run already started: no file/,
    ],
    [
      '--follow of another region',
      () => ['--stage', 'emea', '--follow', `${EXECUTIONS.replace('eu-west-1', 'us-east-1')}:x`],
      /in us-east-1, stage emea in eu-west-1/,
    ],
    ['--follow of what is not an execution', () => ['--stage', 'emea', '--follow', STATE_MACHINE], /is not an execution ARN/],
  ])('%s', async (_case, argv, message) => {
    const { code, err, out } = await run(argv());
    expect(code).toBe(2);
    expect(out).toEqual([]);
    expect(err).toHaveLength(1);
    expect(err[0]).toMatch(/^import: .* \(see --help\)$/);
    expect(err[0]).toMatch(message);
    expect(requestsSent()).toBe(0);
  });

  test('a regional stage with DynamoDB Local in the shell is refused as the table import refuses it', async () => {
    process.env.DYNAMODB_ENDPOINT = 'http://127.0.0.1:8000';
    const { code, err } = await run(['--stage', 'emea', '--aws', '--org', '100', file()]);
    expect(code).toBe(2);
    expect(err).toEqual([expect.stringMatching(/^import: stage emea is AWS's table in eu-west-1, but DYNAMODB_ENDPOINT is set/)]);
    expect(requestsSent()).toBe(0);
  });
});

describe('errors from AWS: one clear line, exit 1', () => {
  const argv = () => ['--stage', 'emea', '--aws', '--org', '100', '--job', 'members-2026-11', membersFile()];

  test('a stage not deployed', async () => {
    cloudFormation.on(DescribeStacksCommand).rejects(
      new CloudFormationServiceException({
        name: 'ValidationError',
        $fault: 'client',
        $metadata: { httpStatusCode: 400 },
        message: `Stack with id ${STACK} does not exist`,
      }),
    );
    const { code, err, out } = await run(argv());
    expect(code).toBe(1);
    expect(out).toEqual([]);
    expect(err).toEqual([
      `import: stack ${STACK} does not exist in eu-west-1: deploy the stage first (npx serverless deploy --stage emea)`,
    ]);
    expect(s3.calls()).toHaveLength(0);
  });

  test('no credentials', async () => {
    cloudFormation
      .on(DescribeStacksCommand)
      .rejects(Object.assign(new Error('Could not load credentials from any providers'), { name: 'CredentialsProviderError' }));
    const { code, err } = await run(argv());
    expect(code).toBe(1);
    expect(err).toEqual([
      `import: reading stack ${STACK} in eu-west-1: no AWS credentials (Could not load credentials from any providers); sign in (aws sso login, AWS_PROFILE) and run again`,
    ]);
  });

  test('access denied, with the action that was denied', async () => {
    const { code, err } = await run(argv(), SUCCEEDING, {
      aws: () =>
        sfn.on(StartExecutionCommand).rejects(
          new SFNServiceException({
            name: 'AccessDeniedException',
            $fault: 'client',
            $metadata: { httpStatusCode: 400 },
            message: 'User: arn:aws:iam::123456789012:user/op is not authorized to perform: states:StartExecution on resource: x\nmore',
          }),
        ),
    });
    expect(code).toBe(1);
    expect(err).toEqual([
      `import: starting a run of ${STATE_MACHINE}: access denied (User: arn:aws:iam::123456789012:user/op is not authorized to perform:` +
        ' states:StartExecution on resource: x more)',
    ]);
  });

  test('a stack deployed before the state machine had its output', async () => {
    cloudFormation.on(DescribeStacksCommand).resolves({
      Stacks: [
        {
          StackName: STACK,
          StackStatus: 'UPDATE_COMPLETE',
          CreationTime: new Date(T0),
          Outputs: [{ OutputKey: 'ImportBucketName', OutputValue: BUCKET }],
        },
      ],
    });
    const { code, err } = await run(argv());
    expect(code).toBe(1);
    expect(err).toEqual([
      `import: stack ${STACK} in eu-west-1 has no output ImportStateMachineArn: deploy the stage again (npx serverless deploy --stage emea)`,
    ]);
  });

  test('losing AWS while following says the run goes on and how to follow it again', async () => {
    const arn = `${EXECUTIONS}:j1-20261101T080000Z-ab12`;
    const { code, err } = await run(['--stage', 'emea', '--follow', arn], SUCCEEDING, {
      aws: () =>
        sfn
          .on(DescribeExecutionCommand)
          .rejects(Object.assign(new Error('getaddrinfo ENOTFOUND states.eu-west-1.amazonaws.com'), { code: 'ENOTFOUND' })),
    });
    expect(code).toBe(1);
    expect(err).toEqual([
      `import: reading run ${arn}: cannot reach AWS (getaddrinfo ENOTFOUND states.eu-west-1.amazonaws.com); the run goes on in AWS;` +
        ` follow it again: npm run import -- --stage emea --follow ${arn}`,
    ]);
  });
});

describe('--help', () => {
  test('shows --aws and --follow with an example', async () => {
    const out: string[] = [];
    const code = await importCommand(['--help'], { io: { out: (line) => out.push(line) } });
    expect(code).toBe(0);
    const help = out.join('\n');
    expect(help).toMatch(/^ {2}--aws {2,}/m);
    expect(help).toMatch(/^ {2}--follow <arn> {2,}/m);
    expect(help).toContain('npm run import -- --stage emea --aws --org 100 --job members-2026-11 members.jsonl');
  });
});
