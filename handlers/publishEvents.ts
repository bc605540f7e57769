import type { Context, DynamoDBStreamEvent } from 'aws-lambda';
import { publishStageRecords } from '../lib/api/eventPorts';
import { log } from '../lib/log';

/** The table's stream -> events and webhook deliveries (SPEC section 10); failed records reported. */
export const handler = (event: DynamoDBStreamEvent, context: Context) => {
  log.addContext(context);
  return publishStageRecords(event.Records as never);
};
