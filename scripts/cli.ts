// What the project's commands share: a bad command line is a UsageError, answered with one line
// naming the command and exit status 2; any other failure is one line and exit status 1.

/** A flag missing or malformed: the message names it. */
export class UsageError extends Error {}

/**
 * Runs a command's `main` and exits with its status. A UsageError prints `<name>: <message>
 * (see --help)` and exits 2; any other error prints `<name>: ` and what `describe` makes of it,
 * and exits 1.
 */
export function runCommand(name: string, main: () => Promise<number>, describe: (error: Error) => string = (e) => e.message): void {
  void commandStatus(name, main, describe).then((code) => process.exit(code));
}

/** What runCommand does short of exiting: the status, with the error's one line written by `err`. */
export async function commandStatus(
  name: string,
  main: () => Promise<number>,
  describe: (error: Error) => string = (e) => e.message,
  err: (line: string) => void = (line) => console.error(line),
): Promise<number> {
  try {
    return await main();
  } catch (error) {
    if (error instanceof UsageError) {
      err(`${name}: ${error.message} (see --help)`);
      return 2;
    }
    err(`${name}: ${describe(error as Error)}`);
    return 1;
  }
}
