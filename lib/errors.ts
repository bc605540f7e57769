// The service's one error type and the codes of SPEC section 4, each named once with its HTTP
// status, so that a handler never chooses a status and a mistyped code does not compile.

/** Every code a response can carry, by name. HTTP-level problems use the status as the code. */
export const Code = {
  badRequest: 400,
  unauthorized: 401,
  /** A till the org does not allow to erase customers (SPEC section 12). */
  forbidden: 403,
  notFound: 404,
  tooLarge: 413,
  unsupportedMediaType: 415,
  idempotencyKeyReused: 422,
  rateLimited: 429,
  internal: 500,
  unavailable: 503,
  lookupWithoutSource: 8001,
  lookupWithoutIdentifier: 8002,
  invalidSource: 8003,
  profileWithoutSource: 8004,
  profileWithoutIdentifier: 8005,
  existsInSource: 8006,
  invalidCommChannel: 8010,
  invalidMobile: 8014,
  customerNotFound: 8015,
  createDateOutOfRange: 8017,
  /** A loyalty customer cannot become non_loyalty (SPEC section 11). */
  cannotLeaveLoyalty: 8018,
  accountIdMissing: 8045,
  identifiersOfDifferentCustomers: 8052,
  /** An identifier to add belongs to another customer (SPEC section 11). */
  identifierOfAnotherCustomer: 8053,
  invalidEmail: 8055,
  invalidCommChannelEmail: 8057,
  invalidCommChannelMobile: 8058,
  noProfileInSource: 8065,
  unknownAccountId: 8127,
  invalidExtendedField: 91015,
  cardNumberMisfit: 3000,
  cardSeriesUnknown: 3004,
  cardNumberIssued: 3009,
  invalidCardStatus: 3017,
  severalCards: 3035,
  unknownProgram: 1213,
  unknownTier: 8201,
  expiryNotAfterCreateDate: 8203,
  enrollmentOfNonLoyalty: 8121,
  /** The service's own (SPEC section 13): a customer would pass the org's maxProfilesPerCustomer. */
  tooManyProfiles: 8901,
  /** The service's own (SPEC section 15): both customers of a merge have a profile in one source account. */
  mergeInOneSourceAccount: 8902,
  /** The service's own (SPEC section 15): a customer of a merge or unmerge is being erased or is itself a merged victim. */
  notMergeable: 8903,
  /** The service's own: a merge or unmerge would write more items than one DynamoDB transaction holds. */
  tooLargeToMerge: 8904,
  // Warnings.
  merged: 8050,
  unknownTill: 8077,
  ignored: 8200,
  /** Capillary's "survivor returned for a merged customer" (SPEC section 15). */
  survivorReturned: 91009,
} as const;

export type Code = (typeof Code)[keyof typeof Code];

/** Codes that are warnings only; they never make a response fail. */
export type WarningCode = typeof Code.merged | typeof Code.unknownTill | typeof Code.ignored | typeof Code.survivorReturned;
export type ErrorCode = Exclude<Code, WarningCode>;

/** HTTP status of each error code. */
const STATUS_OF_CODE: Readonly<Record<ErrorCode, number>> = {
  [Code.badRequest]: 400,
  [Code.unauthorized]: 401,
  [Code.forbidden]: 403,
  [Code.notFound]: 404,
  [Code.tooLarge]: 413,
  [Code.unsupportedMediaType]: 415,
  [Code.idempotencyKeyReused]: 422,
  [Code.rateLimited]: 429,
  [Code.internal]: 500,
  [Code.unavailable]: 503,
  [Code.lookupWithoutSource]: 400,
  [Code.lookupWithoutIdentifier]: 400,
  [Code.invalidSource]: 400,
  [Code.profileWithoutSource]: 400,
  [Code.profileWithoutIdentifier]: 400,
  [Code.invalidCommChannel]: 400,
  [Code.invalidMobile]: 400,
  [Code.createDateOutOfRange]: 400,
  [Code.cannotLeaveLoyalty]: 400,
  [Code.accountIdMissing]: 400,
  [Code.invalidEmail]: 400,
  [Code.invalidCommChannelEmail]: 400,
  [Code.invalidCommChannelMobile]: 400,
  [Code.unknownAccountId]: 400,
  [Code.invalidExtendedField]: 400,
  [Code.cardNumberMisfit]: 400,
  [Code.cardSeriesUnknown]: 400,
  [Code.invalidCardStatus]: 400,
  [Code.severalCards]: 400,
  [Code.unknownProgram]: 400,
  [Code.unknownTier]: 400,
  [Code.expiryNotAfterCreateDate]: 400,
  [Code.enrollmentOfNonLoyalty]: 400,
  [Code.customerNotFound]: 404,
  [Code.noProfileInSource]: 404,
  [Code.existsInSource]: 409,
  [Code.identifiersOfDifferentCustomers]: 409,
  [Code.identifierOfAnotherCustomer]: 409,
  [Code.cardNumberIssued]: 409,
  [Code.tooManyProfiles]: 409,
  [Code.mergeInOneSourceAccount]: 409,
  [Code.notMergeable]: 409,
  [Code.tooLargeToMerge]: 409,
};

export function isErrorCode(code: unknown): code is ErrorCode {
  return typeof code === 'number' && Object.prototype.hasOwnProperty.call(STATUS_OF_CODE, code);
}

function statusOf(code: ErrorCode): number {
  return STATUS_OF_CODE[code];
}

export interface Problem {
  code: ErrorCode;
  message: string;
  /** JSON pointer into the request, where one applies. */
  path?: string;
}

export interface Warning {
  code: WarningCode;
  message: string;
  path?: string;
}

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

  constructor(problems: Problem | Problem[], warnings: Warning[] = []) {
    const list = Array.isArray(problems) ? problems : [problems];
    if (list.length === 0) throw new TypeError('ApiError needs at least one problem');
    super(list.map((p) => `${p.code} ${p.message}`).join('; '));
    this.name = 'ApiError';
    this.problems = list;
    this.warnings = warnings;
    this.status = highestStatus(list);
  }

  static of(code: ErrorCode, message: string, path?: string): ApiError {
    return new ApiError(problem(code, message, path));
  }

  withHeaders(headers: Record<string, string>): this {
    Object.assign(this.headers, headers);
    return this;
  }
}

export function problem(code: ErrorCode, message: string, path?: string): Problem {
  return path === undefined ? { code, message } : { code, message, path };
}

export function warning(code: WarningCode, message: string, path?: string): Warning {
  return path === undefined ? { code, message } : { code, message, path };
}

/** When problems of several kinds are found at once, the most specific client status wins. */
function highestStatus(problems: Problem[]): number {
  // A conflict (409) outranks a bad request (400); a plain 400 is the fallback.
  return Math.max(...problems.map((p) => statusOf(p.code)));
}

/** The code of an invalid identifier value: the spec names mobiles and emails, others are 400. */
export function identifierProblemCode(type: string): ErrorCode {
  return type === 'mobile' ? Code.invalidMobile : type === 'email' ? Code.invalidEmail : Code.badRequest;
}

/** Problems listed in one response; the rest are counted in one more problem. */
export const MAX_LISTED_PROBLEMS = 100;

/**
 * Collects problems while a request is read, so that all of them are reported at once: one
 * per place and code, at most MAX_LISTED_PROBLEMS listed (a response, and the idempotency record
 * holding it, stay small), in time linear in their number.
 */
export class Problems {
  readonly list: Problem[] = [];
  private readonly seen = new Set<string>();
  private unlisted = 0;

  add(code: ErrorCode, message: string, path?: string): void {
    const place = `${code}|${path ?? ''}`;
    if (this.seen.has(place)) return;
    this.seen.add(place);
    if (this.list.length < MAX_LISTED_PROBLEMS) this.list.push(problem(code, message, path));
    else this.unlisted += 1;
  }

  /** Problems found, listed or not. */
  get count(): number {
    return this.list.length + this.unlisted;
  }

  get empty(): boolean {
    return this.count === 0;
  }

  /** Throws the collected problems, if any. */
  throwIfAny(warnings: Warning[] = []): void {
    if (this.empty) return;
    const listed = this.unlisted > 0 ? [...this.list, problem(Code.badRequest, `${this.unlisted} more problems not listed`)] : this.list;
    throw new ApiError(listed, warnings);
  }
}

/** Problems and warnings as responses carry them: `{status: false, code, message, path}`. */
export function statusList(problems: readonly (Problem | Warning)[]): Array<{ status: false; code: Code; message: string; path?: string }> {
  return problems.map(({ code, message, path }) =>
    path === undefined ? { status: false, code, message } : { status: false, code, message, path },
  );
}

/** The body of an error response (SPEC section 4). */
export function errorBody(problems: readonly Problem[], warnings: readonly Warning[]) {
  return { errors: statusList(problems), warnings: statusList(warnings) };
}
