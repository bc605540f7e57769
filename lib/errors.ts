/**
 * The service's one error type. Every code of SPEC section 4 is listed here with its HTTP
 * status, so that a handler never chooses a status itself.
 */

export interface Problem {
  code: number;
  message: string;
  /** JSON pointer into the request, where one applies. */
  path?: string;
}

export interface Warning extends Problem {}

/** HTTP status for each service code. HTTP-level problems use the status as the code. */
export const STATUS_OF_CODE: Readonly<Record<number, number>> = {
  400: 400,
  401: 401,
  413: 413,
  415: 415,
  422: 422,
  429: 429,
  503: 503,
  8001: 400, // lookup without source
  8002: 400, // lookup without identifier name or value
  8003: 400, // invalid or disabled source
  8004: 400, // profile without source
  8005: 400, // profile without a valid identifier
  8010: 400, // invalid comm channel
  8014: 400, // invalid mobile
  8017: 400, // createDate out of range
  8045: 400, // accountId missing
  8055: 400, // invalid email
  8057: 400, // invalid email in a comm channel
  8058: 400, // invalid mobile in a comm channel
  8127: 400, // accountId not an account of the org
  91015: 400, // extended field invalid
  3000: 400, // card number does not fit its series
  3004: 400, // card series does not exist
  3017: 400, // invalid card status label
  3035: 400, // several cards
  1213: 400, // invalid program
  8201: 400, // invalid tier
  8203: 400, // expiry not after createDate
  8121: 400, // enrollment of a non_loyalty customer
  8015: 404, // customer not found
  8065: 404, // customer has no profile in the source
  8006: 409, // customer exists in the same source
  8052: 409, // identifiers of different customers
  3009: 409, // card number already issued
};

/**
 * A problem a client caused (or, for 503, one it can retry). Carries every problem found,
 * not only the first, and the warnings gathered before the rejection.
 */
export class ApiError extends Error {
  readonly status: number;
  readonly problems: Problem[];
  warnings: Warning[] = [];
  /** Extra response headers (Retry-After, X-RateLimit-*). */
  headers: Record<string, string> = {};

  constructor(problems: Problem | Problem[], status?: number) {
    const list = Array.isArray(problems) ? problems : [problems];
    if (list.length === 0) throw new TypeError('ApiError needs at least one problem');
    super(list.map((p) => `${p.code} ${p.message}`).join('; '));
    this.name = 'ApiError';
    this.problems = list;
    this.status = status ?? highestStatus(list);
  }

  static of(code: number, message: string, path?: string): ApiError {
    return new ApiError(path === undefined ? { code, message } : { code, message, path });
  }

  withHeaders(headers: Record<string, string>): this {
    Object.assign(this.headers, headers);
    return this;
  }
}

/** When problems of several kinds are found at once, the most specific client status wins. */
function highestStatus(problems: Problem[]): number {
  const statuses = problems.map((p) => STATUS_OF_CODE[p.code] ?? 400);
  // A conflict (409) outranks a bad request (400); a plain 400 is the fallback.
  return Math.max(...statuses);
}

/** Collects problems while a request is read, so that all of them are reported at once. */
export class Problems {
  readonly list: Problem[] = [];

  add(code: number, message: string, path?: string): void {
    this.list.push(path === undefined ? { code, message } : { code, message, path });
  }

  get empty(): boolean {
    return this.list.length === 0;
  }

  /** Throws the collected problems, if any. */
  throwIfAny(warnings: Warning[] = []): void {
    if (this.empty) return;
    const error = new ApiError(this.list);
    error.warnings = warnings;
    throw error;
  }
}
