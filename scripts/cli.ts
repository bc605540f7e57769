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
  main().then(
    (code) => process.exit(code),
    (error: Error) => {
      if (error instanceof UsageError) {
        console.error(`${name}: ${error.message} (see --help)`);
        process.exit(2);
      }
      console.error(`${name}: ${describe(error)}`);
      process.exit(1);
    },
  );
}
