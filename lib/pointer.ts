// JSON pointers (RFC 6901) into the request, as problems and warnings name their place.

/** `~` and `/` inside a key are escaped in a JSON pointer. */
export function escapePointer(key: string): string {
  return key.replace(/~/g, '~0').replace(/\//g, '~1');
}
