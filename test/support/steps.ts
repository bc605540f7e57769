// A transaction runner for stepped writes (erase, merge, unmerge): it records what it sends,
// checks each transaction's size, and dies like a killed function after `failAfter` of them.

import { runTransaction, type TransactionResult } from '../../lib/store/transactions';
import type { PlannedTransaction } from '../../lib/store/plans';

/** A transaction runner that counts and checks the size of what it sends, and fails after `failAfter` transactions. */
export function runner(options: { failAfter?: number; most?: number } = {}) {
  const sent: PlannedTransaction[] = [];
  const run = async (plan: PlannedTransaction): Promise<TransactionResult> => {
    if (options.failAfter !== undefined && sent.length >= options.failAfter) throw new Error('simulated crash of the function');
    sent.push(plan);
    if (options.most !== undefined) expect(plan.input.TransactItems!.length).toBeLessThanOrEqual(options.most);
    return runTransaction(plan);
  };
  return { run, sent };
}
