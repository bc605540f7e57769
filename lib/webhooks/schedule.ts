// When a failed delivery is tried again (SPEC section 10: retries with backoff for about three
// days, then a dead-letter queue). The queue holds the schedule: after a failed attempt the
// sender makes the message invisible for the next delay (ChangeMessageVisibility) and reports it
// failed, so the queue hands it out again then. When attempt ATTEMPTS fails, the sender moves the
// message to the dead-letter queue itself. The queue's redrive policy (MAX_RECEIVE_COUNT) is the
// backstop, three receives later: a receive that never became an attempt (the sender timed out,
// crashed, or its batch failed whole) comes back after the queue's visibility timeout and does not
// cost the delivery its last attempt, and a message the sender could not move still ends there.
// An attempt is numbered by the queue's receive count, so such a lost receive before the last
// attempt still takes the place of one attempt of the schedule.
//
//   attempt   1    2    3     4    5    6     7      8      9      10     11     12
//   at        0    1m   6m    36m  2h36 7h36  17h36  29h31  41h26  53h21  65h16  77h11 (3.2 days)
//
// The queue keeps a message 5 days (serverless.yml's MessageRetentionPeriod): more than the
// 3.2 days of the attempts and the slack's receives (each of those comes back after the queue's
// visibility timeout, minutes; even at the longest delay each, 12 attempts and 3 more receives
// end within 4.7 days).
//
// SQS allows a message at most 12 hours of invisibility counted from its receipt, and the
// attempt itself has already used some of that: the longest step is 12 hours less 5 minutes.

/** Delays after attempts 1 to 6; every later one waits LONGEST_DELAY_SECONDS. */
const FIRST_DELAYS_SECONDS = [60, 5 * 60, 30 * 60, 2 * 3600, 5 * 3600, 10 * 3600] as const;
const LONGEST_DELAY_SECONDS = 12 * 3600 - 5 * 60;

/** The attempts a delivery gets before the sender moves it to the dead-letter queue. */
export const ATTEMPTS = 12;

/** The queue's redrive policy (maxReceiveCount): a backstop with three receives of slack beyond the attempts. */
export const MAX_RECEIVE_COUNT = ATTEMPTS + 3;

/** Seconds to wait after the failed attempt number `receiveCount` (SQS's ApproximateReceiveCount, 1 for the first). */
export function retryDelaySeconds(receiveCount: number): number {
  const attempt = Math.max(1, Math.floor(receiveCount));
  return FIRST_DELAYS_SECONDS[attempt - 1] ?? LONGEST_DELAY_SECONDS;
}

/** Whether a failure of this attempt ends in the dead-letter queue rather than another attempt. */
export function isLastAttempt(receiveCount: number): boolean {
  return receiveCount >= ATTEMPTS;
}
