import { setTimeout as sleep } from 'node:timers/promises';
import { OrderedRunner } from '../../lib/registration/ordering';

// Tasks that share a key run in the order they were submitted; the others run at once, within
// the concurrency.

function recorder() {
  const events: string[] = [];
  const task = (name: string, ms: number) => async () => {
    events.push(`start ${name}`);
    await sleep(ms);
    events.push(`end ${name}`);
    return name;
  };
  return { events, task };
}

test('a task sharing a key with an earlier one starts only after it has finished', async () => {
  const runner = new OrderedRunner(4);
  const { events, task } = recorder();
  const results = await Promise.all([
    runner.submit(['m'], task('a', 30)),
    runner.submit(['m', 'e'], task('b', 1)),
    runner.submit(['e'], task('c', 1)),
  ]);
  expect(results).toEqual(['a', 'b', 'c']);
  expect(events).toEqual(['start a', 'end a', 'start b', 'end b', 'start c', 'end c']);
});

test('tasks without a shared key run at the same time', async () => {
  const runner = new OrderedRunner(4);
  const { events, task } = recorder();
  await Promise.all([runner.submit(['x'], task('a', 20)), runner.submit(['y'], task('b', 20)), runner.submit([], task('c', 20))]);
  expect(events.slice(0, 3).sort()).toEqual(['start a', 'start b', 'start c']);
});

test('no more tasks run at once than the concurrency', async () => {
  const runner = new OrderedRunner(2);
  let running = 0;
  let most = 0;
  await Promise.all(
    Array.from({ length: 10 }, (_, i) =>
      runner.submit([`k${i}`], async () => {
        running += 1;
        most = Math.max(most, running);
        await sleep(5);
        running -= 1;
      }),
    ),
  );
  expect(most).toBe(2);
});

test('a failed task does not hold up the tasks after it, and its failure reaches its caller', async () => {
  const runner = new OrderedRunner(1);
  const failed = runner.submit(['m'], async () => {
    throw new Error('boom');
  });
  const after = runner.submit(['m'], async () => 'after');
  await expect(failed).rejects.toThrow('boom');
  await expect(after).resolves.toBe('after');
  await runner.idle();
  expect(runner.pending).toBe(0);
});

test('a waiting task does not take a slot, so a long chain cannot starve independent tasks', async () => {
  const runner = new OrderedRunner(1);
  const { events, task } = recorder();
  const chain = [runner.submit(['m'], task('m1', 20)), runner.submit(['m'], task('m2', 1))];
  const independent = runner.submit(['z'], task('z', 1));
  await Promise.all([...chain, independent]);
  // z was submitted after m2 but m2 waited for m1 without a slot; z ran as soon as m1 freed it.
  expect(events.indexOf('start z')).toBeLessThan(events.indexOf('end m2'));
});
