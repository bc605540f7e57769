// Registrations of one batch (a bulk add, an import) that share a normalised identifier must
// apply in input order, as sequential single adds would (a later one becomes a merge, 8006 or
// 8052); the others may run at once. A task submitted here starts when every earlier task that
// shares one of its keys has finished and a slot of the bounded concurrency is free. Tasks
// wait for earlier ones only, before taking a slot, so the queue cannot deadlock.

import { identifierKeyOf, uniqueIdentifiers, type Registration } from '../customer';

export class OrderedRunner {
  private readonly lastOf = new Map<string, Promise<void>>();
  private running = 0;
  private readonly waitingForSlot: (() => void)[] = [];
  private unfinished = 0;
  private readonly drained: (() => void)[] = [];

  constructor(private readonly concurrency: number) {
    if (!Number.isInteger(concurrency) || concurrency < 1) throw new Error(`concurrency must be a positive integer, not ${concurrency}`);
  }

  /** Tasks submitted and not finished yet. */
  get pending(): number {
    return this.unfinished;
  }

  /** Runs `task` after every earlier task sharing one of `keys`, within the concurrency. */
  submit<T>(keys: readonly string[], task: () => Promise<T>): Promise<T> {
    const before = [...new Set(keys)].map((key) => this.lastOf.get(key)).filter((p): p is Promise<void> => p !== undefined);
    this.unfinished += 1;
    const result = Promise.all(before).then(async () => {
      await this.takeSlot();
      try {
        return await task();
      } finally {
        this.releaseSlot();
      }
    });
    const done = result.then(
      () => undefined,
      () => undefined,
    );
    for (const key of keys) this.lastOf.set(key, done);
    void done.then(() => {
      for (const key of keys) if (this.lastOf.get(key) === done) this.lastOf.delete(key);
      this.unfinished -= 1;
      if (this.unfinished === 0) this.drained.splice(0).forEach((resolve) => resolve());
    });
    return result;
  }

  /** Resolves when every submitted task has finished. */
  idle(): Promise<void> {
    return this.unfinished === 0 ? Promise.resolve() : new Promise((resolve) => this.drained.push(resolve));
  }

  private takeSlot(): Promise<void> {
    if (this.running < this.concurrency) {
      this.running += 1;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.waitingForSlot.push(resolve));
  }

  private releaseSlot(): void {
    const next = this.waitingForSlot.shift();
    // The slot passes straight to the next task waiting for one.
    if (next) next();
    else this.running -= 1;
  }
}

/** The keys that order a registration: its identifier values, card numbers given included. */
export function orderingKeys(registration: Registration): string[] {
  return uniqueIdentifiers(registration.profiles).map(identifierKeyOf);
}
