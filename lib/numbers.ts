/**
 * Numbers that survive storage: the DynamoDB marshaller refuses integers beyond 2^53 - 1 (they
 * would lose precision) and DynamoDB refuses magnitudes below 1e-130.
 */
export function isStorableNumber(n: number): boolean {
  if (!Number.isFinite(n)) return false;
  const magnitude = Math.abs(n);
  return n === 0 || (magnitude <= Number.MAX_SAFE_INTEGER && magnitude >= 1e-125);
}
