import { randomUUID } from 'node:crypto';
import { documentClient } from '../../lib/store/client';

// What the service's document client sends to DynamoDB, by operation (GetItem, TransactWriteItems...)
// and by kind of transaction item (Transact/Put, Transact/Update...): what a role must allow.

const OPERATIONS: Record<string, string> = {
  GetCommand: 'GetItem',
  PutCommand: 'PutItem',
  UpdateCommand: 'UpdateItem',
  DeleteCommand: 'DeleteItem',
  BatchGetCommand: 'BatchGetItem',
  TransactWriteCommand: 'TransactWriteItems',
};

export interface OperationRecorder {
  sent: Set<string>;
  /** Runs `work` without recording what it sends (another route, with a role of its own). */
  unrecorded<T>(work: () => Promise<T>): Promise<T>;
  stop(): void;
}

export function recordOperations(): OperationRecorder {
  const sent = new Set<string>();
  let recording = true;
  const name = `recordOperations${randomUUID()}`;
  documentClient().middlewareStack.add(
    (next, context) => async (args) => {
      if (recording) {
        sent.add(OPERATIONS[context.commandName!] ?? context.commandName!.replace(/Command$/, ''));
        for (const item of (args.input as { TransactItems?: Record<string, unknown>[] }).TransactItems ?? [])
          sent.add(`Transact/${Object.keys(item)[0]}`);
      }
      return next(args);
    },
    { step: 'initialize', name },
  );
  return {
    sent,
    unrecorded: async (work) => {
      recording = false;
      try {
        return await work();
      } finally {
        recording = true;
      }
    },
    stop: () => documentClient().middlewareStack.remove(name),
  };
}
