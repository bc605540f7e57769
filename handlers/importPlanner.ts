import type { Context } from 'aws-lambda';
import { planImport, type PlannerEvent } from '../lib/import/planner';
import { log } from '../lib/log';

/** Step Functions' first state of an import at scale: the plan of batches the Distributed Map reads (SPEC section 9). */
export const handler = (event: PlannerEvent, context: Context) => {
  log.addContext(context);
  return planImport(event);
};
