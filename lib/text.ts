// Text as the service stores it.

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Whether a string is well-formed UTF-16: no surrogate without its pair. */
export function isWellFormed(text: string): boolean {
  return !LONE_SURROGATE.test(text);
}
