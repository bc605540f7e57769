import { parseArgs } from 'node:util';
import { basename } from 'node:path';
import { ImportError, ImportUnavailableError } from '../lib/import/errors';
import { importFile, type ImportSummary } from '../lib/import/importFile';
import { progressFor } from '../lib/import/progress';
import { describeTally, linesOf } from '../lib/import/tally';
import { StageError, useStage } from './stage';
import { commandStatus, runCommand, UsageError } from './cli';
import { AwsImportError, runInAws, type AwsClients, type AwsFlags, type AwsIo } from './importAws';

// Imports a brand's members into a stage's table (SPEC section 9):
//
//   npm run import -- --stage <stage> --org <orgId> [--till <code>] [--rate N] [--concurrency N]
//                     [--job ID] [--format jsonl|csv] <file>
//   npm run import -- --stage <regional stage> --aws --org <orgId> [--till <code>] [--job ID] <file.jsonl>
//   npm run import -- --stage <regional stage> --follow <execution ARN>
//
// The table is `loyalty-customers-<stage>` unless TABLE_NAME says otherwise: for --stage local
// the DynamoDB Local of a running `npm start`, for a regional stage AWS's table in the stage's
// region with the operator's credentials (scripts/stage.ts). Exit 0 when the whole file was gone through (rejected
// lines included), 130 after Ctrl-C (rerun the same command to go on), 1 when the job could not
// run or go on (another importer is running the job, the job was for another file, DynamoDB
// stayed unavailable), 2 for bad flags; each failure is one line on stderr.
//
// --aws and --follow run the import in AWS instead: the stage's importMembers state machine
// (Step Functions Distributed Map) registers the file's lines; scripts/importAws.ts uploads,
// starts and follows the run.

const USAGE = `usage: npm run import -- --stage <stage> --org <orgId> [options] <file>
       npm run import -- --stage <regional stage> --aws --org <orgId> [--till <code>] [--job <id>] <file.jsonl>
       npm run import -- --stage <regional stage> --follow <execution ARN>

Registers the members in <file> (JSON Lines: one add-customer body per line; or CSV with a
header row: .csv or --format csv) into the stage's table, through the same rules as
POST /v2/customers, paced by --rate instead of the per-org request limit.

options:
  --stage <stage>      local, asia1, asia2 or emea (default: $STAGE or local); local is the
                       DynamoDB Local of a running \`npm start\`, a regional stage AWS's table
  --org <orgId>        the org the members belong to (required)
  --till <code>        the till lines are registered by and associated with (default: the
                       org's first till)
  --rate <n>           registrations per second (default 500)
  --concurrency <n>    registrations in flight (default 16)
  --job <id>           the job id of the idempotency records import:<job>:<line> (default: a
                       hash of the file's content); a job is for one file and one till: a
                       --job already run for another file is refused before any line is sent
  --format jsonl|csv   default: csv for a .csv file, else jsonl
  --aws                import in AWS, at scale: upload the JSON Lines file to the stage's import
                       bucket (imports/<job>.jsonl), start a run of its importMembers state machine
                       (Step Functions Distributed Map; a name of its own per start) and follow it
                       until it ends (see below); takes --org, --till and --job, not --rate,
                       --concurrency or a CSV file
  --follow <arn>       follow a run already started (--stage and the execution ARN only)
  -h, --help           this text

CSV columns: firstName, lastName, source, accountId, mobile, email, externalId (and any other
identifier type), cardNumber, cardSeriesId or cardSeriesCode, cardStatus, loyaltyType,
createDate, associatedWith, field.<name> (custom fields), ext.<name> (extended fields);
source and one identifier column are required.

Writes beside the file: <file>.results.csv (line, status, customerId, codes, outcome, and for
a line not answered 200 the reason: its first error's message and path), <file>.rejects.<ext>
(every line not answered 200, byte for byte) and <file>.checkpoint.json. A line that is not
valid UTF-8 is rejected (400) as it was, never decoded with replacement characters; a byte
order mark at the start of the file is ignored.

One importer runs a job at a time: a second one refuses at once, naming the running one (exit
1). A lock left by a process of this host that is gone is taken over at once, any other after
its 60 s lease. Ctrl-C stops after the lines being sent; the same command again goes on from
there, and repairs output files that disagree with the checkpoint.

The progress shows lines written, the rate and the ETA of the last 20 s (-- until known). When
DynamoDB does not answer, it says so instead ("DynamoDB unavailable, retrying in 8s (retry 4 of
7)") and lines are tried again after growing pauses; if it stays away for about a minute the job
stops with one line (exit 1: run it again to go on). A Ctrl-C meanwhile ends the pause at once.

In AWS (--aws), with the operator's credentials for the stage's region:

  npm run import -- --stage emea --aws --org 100 --job members-2026-11 members.jsonl
  npm run import -- --stage emea --follow arn:aws:states:eu-west-1:<account>:execution:<machine>:<name>

The bucket and state machine are the outputs ImportBucketName and ImportStateMachineArn of the
stack loyalty-customers-<stage>. A progress line shows the batches done of the total (a batch
is linesPerBatch lines of config/import.json) and the failed ones ("planning" until the map has
started); at the end one line gives the run's status, its batches succeeded and failed, and its
results under s3://<bucket>/results/<job>/. A job already running, or whose uploaded file is
another file, is refused. Exit 0 when the run succeeded, 1 when it did not (its error and cause
on stderr) or AWS refused, 130 after Ctrl-C: following stops, the run goes on in AWS (--follow
picks it up); the same command again starts a new run of the job, which replays what was done.`;

interface Flags {
  kind: 'table';
  stage: string;
  orgId: number;
  till?: string;
  rate: number;
  concurrency: number;
  job?: string;
  format?: 'jsonl' | 'csv';
  file: string;
}

function readFlags(argv: string[]): Flags | { kind: 'aws'; flags: AwsFlags } | 'help' {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        stage: { type: 'string' },
        org: { type: 'string' },
        till: { type: 'string' },
        rate: { type: 'string' },
        concurrency: { type: 'string' },
        job: { type: 'string' },
        format: { type: 'string' },
        aws: { type: 'boolean' },
        follow: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (error) {
    throw new UsageError((error as Error).message.split('\n')[0]);
  }
  const { values, positionals } = parsed;
  if (values.help) return 'help';
  if (values.format !== undefined && values.format !== 'jsonl' && values.format !== 'csv') {
    throw new UsageError(`--format must be jsonl or csv, not ${values.format}`);
  }
  const stage = values.stage ?? process.env.STAGE ?? 'local';
  if (values.aws || values.follow !== undefined) return { kind: 'aws', flags: readAwsFlags(stage, values, positionals) };
  const file = oneFile(positionals);
  const orgId = orgOf(values.org);
  return {
    kind: 'table',
    stage,
    orgId,
    till: values.till,
    rate: positive('--rate', values.rate, 500, false),
    concurrency: positive('--concurrency', values.concurrency, 16, true),
    job: values.job,
    format: values.format as Flags['format'],
    file,
  };
}

function oneFile(positionals: string[]): string {
  if (positionals.length !== 1)
    throw new UsageError(positionals.length === 0 ? 'no file given' : `one file at a time, not ${positionals.length}`);
  return positionals[0];
}

function orgOf(raw: string | undefined): number {
  if (raw === undefined) throw new UsageError('--org is required');
  const orgId = Number(raw);
  if (!/^\d+$/.test(raw) || !Number.isSafeInteger(orgId) || orgId < 1) throw new UsageError(`--org must be a positive integer, not ${raw}`);
  return orgId;
}

interface AwsValues {
  org?: string;
  till?: string;
  rate?: string;
  concurrency?: string;
  job?: string;
  format?: string;
  follow?: string;
}

/** --aws and --follow: the flags of a run in AWS; the table import's own are refused. */
function readAwsFlags(stage: string, values: AwsValues, positionals: string[]): AwsFlags {
  const tableOnly = (['rate', 'concurrency'] as const).filter((name) => values[name] !== undefined).map((name) => `--${name}`);
  if (tableOnly.length > 0) {
    throw new UsageError(
      `${tableOnly.join(' and ')} ${tableOnly.length > 1 ? 'apply' : 'applies'} to the table import only; in AWS the pace is config/import.json's (deployed)`,
    );
  }
  if (values.follow !== undefined) {
    const extra = [
      positionals.length > 0 ? 'file' : '',
      ...(['org', 'till', 'job', 'format'] as const).filter((name) => values[name] !== undefined).map((name) => `--${name}`),
    ];
    const given = extra.filter(Boolean);
    if (given.length > 0) throw new UsageError(`--follow follows a run already started: no ${given.join(', ')}`);
    return { stage, follow: values.follow };
  }
  const file = oneFile(positionals);
  if (values.format === 'csv' || (values.format === undefined && /\.csv$/i.test(file))) {
    throw new UsageError(
      '--aws takes JSON Lines, not CSV: import the CSV with the CLI import (without --aws), or convert it to JSON Lines (one add-customer body per line) and check it against a local table first',
    );
  }
  return { stage, orgId: orgOf(values.org), till: values.till, job: values.job, file };
}

function positive(flag: string, raw: string | undefined, fallback: number, integer: boolean): number {
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0 || (integer && !Number.isInteger(value))) {
    throw new UsageError(`${flag} must be a positive ${integer ? 'integer' : 'number'}, not ${raw}`);
  }
  return value;
}

function report(summary: ImportSummary, file: string): string {
  const seconds = summary.elapsedMs / 1000;
  const run = linesOf(summary.run);
  const peakMb = Math.round(process.resourceUsage().maxRSS / 1024);
  const head = summary.complete
    ? `import complete: ${linesOf(summary.total)} lines of ${basename(file)}`
    : `import stopped after line ${summary.prefixLine}: ${linesOf(summary.total)} lines of ${basename(file)} done`;
  const lines = [
    `${head} (job ${summary.job}): ${describeTally(summary.total)}`,
    `this run: ${run} lines in ${seconds.toFixed(1)} s, ${Math.round(run / Math.max(seconds, 0.001))}/s` +
      `${summary.skipped > 0 ? `, after ${summary.skipped} lines done before` : ''}; peak memory ${peakMb} MB`,
    `results: ${summary.paths.results}; rejects: ${summary.paths.rejects}`,
  ];
  if (!summary.complete) lines.push('run the same command again to go on');
  return lines.join('\n');
}

/** What tests put in place of AWS and the terminal. */
export interface ImportDeps {
  aws?: Partial<AwsClients>;
  io?: Partial<AwsIo>;
}

async function main(argv: string[], deps: ImportDeps = {}): Promise<number> {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const flags = readFlags(argv);
  if (flags === 'help') {
    (deps.io?.out ?? console.log)(USAGE);
    return 0;
  }
  if (flags.kind === 'aws') return runInAws(flags.flags, deps.aws, { signal: deps.io?.signal ?? ctrlC(), ...deps.io });
  try {
    useStage(flags.stage);
  } catch (error) {
    if (error instanceof StageError) throw new UsageError(error.message);
    throw error;
  }
  const stop = ctrlC(() =>
    process.stderr.write('\nstopping: the lines being sent finish, then the checkpoint is written (Ctrl-C again to quit at once)\n'),
  );
  const summary = await importFile({
    file: flags.file,
    orgId: flags.orgId,
    till: flags.till,
    rate: flags.rate,
    concurrency: flags.concurrency,
    job: flags.job,
    format: flags.format,
    signal: stop,
    progress: progressFor(process.stderr),
    notice: (message) => process.stderr.write(`import: ${message}\n`),
  });
  console.log(report(summary, flags.file));
  return summary.complete ? 0 : 130;
}

/**
 * The first Ctrl-C aborts the signal (in AWS it stops following, importAws.ts says so); another
 * quits at once. A second SIGINT within a second is the same Ctrl-C: `npm run import` starts the
 * import under tsx, which relays the terminal's SIGINT again when the import is slow to take it.
 */
function ctrlC(first: () => void = () => {}): AbortSignal {
  const stop = new AbortController();
  let at = 0;
  process.on('SIGINT', () => {
    if (!stop.signal.aborted) {
      at = performance.now();
      first();
      stop.abort();
    } else if (performance.now() - at > SAME_CTRL_C_MS) process.exit(130);
  });
  return stop.signal;
}

const SAME_CTRL_C_MS = 1000;

function describe(error: Error): string {
  return error instanceof ImportError || error instanceof ImportUnavailableError || error instanceof AwsImportError
    ? error.message
    : `unexpected ${error.name}: ${error.message}`;
}

/** The command's exit status, its failure's one line written to `deps.io.err` (stderr). */
export function importCommand(argv: string[], deps: ImportDeps = {}): Promise<number> {
  return commandStatus('import', () => main(argv, deps), describe, deps.io?.err);
}

if (require.main === module) {
  runCommand('import', () => main(process.argv.slice(2)), describe);
}
