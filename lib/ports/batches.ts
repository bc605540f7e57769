// AWS's batch calls bound both the entries of a call and their bytes together (PutEvents: 10
// entries and 256 KB; SendMessageBatch: 10 messages and 256 KiB): entries in order, cut by both.

/** Items in order, in batches of at most `count` whose sizes add up to at most `bytes` (an item larger than that alone). */
export function batchesBySize<T>(items: T[], sizeOf: (item: T) => number, limits: { count: number; bytes: number }): T[][] {
  const batches: T[][] = [];
  let current: T[] = [];
  let bytes = 0;
  for (const item of items) {
    const size = sizeOf(item);
    if (current.length > 0 && (current.length === limits.count || bytes + size > limits.bytes)) {
      batches.push(current);
      current = [];
      bytes = 0;
    }
    current.push(item);
    bytes += size;
  }
  if (current.length > 0) batches.push(current);
  return batches;
}
