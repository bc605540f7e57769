import { log } from '../../lib/log';

/**
 * The JSON lines this process writes to stdout while `during` runs, as a log shipper would read
 * them, with the logger at INFO (tests run it silent).
 */
export async function captureStdoutLines(during: () => Promise<unknown>): Promise<Record<string, unknown>[]> {
  const lines: Record<string, unknown>[] = [];
  const spy = jest.spyOn(process.stdout, 'write').mockImplementation(((chunk: string | Uint8Array) => {
    for (const text of String(chunk).split('\n')) {
      if (!text.trim().startsWith('{')) continue;
      try {
        lines.push(JSON.parse(text) as Record<string, unknown>);
      } catch {
        // Not a JSON line.
      }
    }
    return true;
  }) as never);
  const level = log.getLevelName();
  log.setLogLevel('INFO');
  // Each invocation would set the level back to the process's own (silent).
  const keepLevel = jest.spyOn(log, 'refreshSampleRateCalculation').mockImplementation(() => undefined);
  try {
    await during();
  } finally {
    keepLevel.mockRestore();
    log.setLogLevel(level);
    spy.mockRestore();
  }
  return lines;
}
