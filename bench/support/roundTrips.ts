import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

// Counts what a DynamoDB client sends: commands by name (at `initialize`, once per `send`) and
// HTTP requests (at `finalizeRequest` below the retry middleware, so every attempt counts).
// A round trip is one HTTP request.

export type Counts = Record<string, number>;

export interface RoundTripCounter {
  /** Commands sent since the last reset, by operation name (TransactWriteItems, UpdateItem...). */
  commands(): Counts;
  /** HTTP requests sent since the last reset (retries included). */
  httpRequests(): number;
  reset(): void;
  detach(): void;
}

/** Operations that write to the table. */
export const WRITE_OPERATIONS = new Set(['PutItem', 'UpdateItem', 'DeleteItem', 'BatchWriteItem', 'TransactWriteItems']);

let installed = 0;

export function operationOf(context: { commandName?: string }): string {
  return (context.commandName ?? 'Unknown').replace(/Command$/, '');
}

export function countRoundTrips(client: DynamoDBDocumentClient): RoundTripCounter {
  installed += 1;
  const commandsName = `benchCountCommands${installed}`;
  const requestsName = `benchCountRequests${installed}`;
  let commands: Counts = {};
  let requests = 0;
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const name = operationOf(context);
      commands[name] = (commands[name] ?? 0) + 1;
      return next(args);
    },
    { step: 'initialize', name: commandsName, priority: 'high' },
  );
  client.middlewareStack.add(
    (next) => async (args) => {
      requests += 1;
      return next(args);
    },
    { step: 'finalizeRequest', name: requestsName, priority: 'low' },
  );
  return {
    commands: () => ({ ...commands }),
    httpRequests: () => requests,
    reset: () => {
      commands = {};
      requests = 0;
    },
    detach: () => {
      client.middlewareStack.remove(commandsName);
      client.middlewareStack.remove(requestsName);
    },
  };
}

export function total(counts: Counts): number {
  return Object.values(counts).reduce((sum, n) => sum + n, 0);
}

/** `UpdateItem 1 + TransactWriteItems 1` */
export function describeCounts(counts: Counts): string {
  const entries = Object.entries(counts).sort(([a], [b]) => a.localeCompare(b));
  return entries.length === 0 ? 'none' : entries.map(([name, n]) => `${name} ${n}`).join(' + ');
}
