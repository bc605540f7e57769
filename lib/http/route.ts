// Every route is wrapped the same way: log the outcome, map errors to the spec's responses,
// read and bound the JSON body, authenticate the till (unless the route is open, as the
// OpenAPI document is). Handlers then get a typed request,
// call one function of lib/api and return its answer.

import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy, { type MiddlewareObj } from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import type { Answer } from '../api/answer';
import { authenticate, type Caller } from '../auth';
import { withDeadline } from '../deadline';
import { ApiError, Code } from '../errors';
import { log } from '../log';
import { withRequestStamp } from '../requestContext';
import { MAX_BODY_BYTES } from '../schemas/addCustomer.schema';
import { publishOutcome } from './metrics';
import { errorResponse, fromAnswer, internalErrorResponse } from './response';

export interface RouteRequest {
  event: APIGatewayProxyEvent;
  caller: Caller;
  /** Parsed JSON body (routes declared with `body: true`). */
  body: unknown;
  /** The body's text as sent, decoded from base64 where API Gateway encoded it. */
  bodyText: string;
  /** Header lookup, case-insensitive as HTTP is. */
  header(name: string): string | undefined;
  query(name: string): string | undefined;
  path(name: string): string | undefined;
  requestId: string;
  /** What happened, for the request's log line (created, merged, replayed...). */
  outcome?: string;
}

export type RouteHandler = (request: RouteRequest) => Promise<Answer> | Answer;

export interface RouteOptions {
  /** Whether the route takes a JSON body. */
  body?: boolean;
  /** The largest body the route takes; 64 KiB unless told. */
  maxBodyBytes?: number;
  /** Whether the route needs a till's credentials; true unless told. Without, `caller` is unset. */
  auth?: boolean;
}

/** The Lambda event once the route's middlewares have read it. */
export interface RouteEvent extends APIGatewayProxyEvent {
  route: RouteRequest;
}

export { MAX_BODY_BYTES };

export function route(name: string, options: RouteOptions, handler: RouteHandler) {
  // The Lambda context (cold start, function name, request id) on every log line of the request.
  const wrapped = middy<RouteEvent, APIGatewayProxyResult, Error, Context>()
    .use(injectLambdaContext(log, { resetKeys: true }))
    .use(outcomes(name))
    .use(requestContext());
  if (options.auth !== false) wrapped.use(authentication());
  // Credentials first, then the body: a stranger learns nothing about how it would be judged.
  if (options.body) wrapped.use(jsonBody(options.maxBodyBytes ?? MAX_BODY_BYTES));
  // API Gateway hands in a plain proxy event; `route` is added by requestContext.
  const lambda = wrapped.handler(async (event, context) => {
    const request = event.route;
    // The till and request every write of the request records (the history tells them).
    const stamp = { till: request.caller?.till ?? '', requestId: context?.awsRequestId ?? request.requestId };
    const answer = await withRequestStamp(stamp, async () => handler(request));
    event.route.outcome = answer.outcome;
    return fromAnswer(answer);
  }) as unknown as LambdaHandler;
  // Every DynamoDB call of the request, retries included, shares one deadline inside the function's timeout.
  return ((event, context) => withDeadline(context?.getRemainingTimeInMillis?.(), () => lambda(event, context))) as LambdaHandler;
}

export type LambdaHandler = (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;

function headerOf(event: APIGatewayProxyEvent, name: string): string | undefined {
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(event.headers ?? {})) {
    if (key.toLowerCase() === wanted && value !== undefined) return value;
  }
  return undefined;
}

/**
 * Logs one line and publishes the metrics of each request, and turns errors into responses;
 * nothing else answers 500.
 */
function outcomes(route: string): MiddlewareObj<RouteEvent, APIGatewayProxyResult> {
  const started = new WeakMap<object, number>();
  const finish = (request: { event: RouteEvent; context: Context; response: APIGatewayProxyResult | null }, code?: number) => {
    const response = request.response;
    const state = request.event.route;
    const org = state?.caller?.org.orgId;
    const outcome = state?.outcome ?? (code === undefined ? 'ok' : 'rejected');
    const latencyMs = Date.now() - (started.get(request.event) ?? Date.now());
    log.info('request', {
      requestId: request.context?.awsRequestId,
      apiRequestId: request.event.requestContext?.requestId,
      route,
      org,
      outcome,
      status: response?.statusCode,
      code,
      latencyMs,
    });
    publishOutcome({ route, outcome, org, code, latencyMs });
  };
  const failed = (request: { event: RouteEvent }, outcome: string) => {
    if (request.event.route) request.event.route.outcome = outcome;
  };
  return {
    before: (request) => {
      started.set(request.event, Date.now());
    },
    after: (request) => finish(request),
    onError: (request) => {
      const error = request.error;
      if (error instanceof ApiError) {
        if (error.status === 429) failed(request, 'rate_limited');
        else if (error.status === 503) failed(request, 'unavailable');
        request.response = errorResponse(error);
        finish(request, error.problems[0].code);
        return;
      }
      log.error('unexpected failure', { requestId: request.context?.awsRequestId, route, error });
      failed(request, 'failed');
      request.response = internalErrorResponse();
      finish(request, Code.internal);
    },
  };
}

/** Gives the handler a RouteRequest. */
function requestContext(): MiddlewareObj<RouteEvent, APIGatewayProxyResult> {
  return {
    before: (request) => {
      const event = request.event;
      event.route = {
        event,
        caller: undefined as unknown as Caller,
        body: undefined,
        bodyText: '',
        header: (name) => headerOf(event, name),
        query: (name) => event.queryStringParameters?.[name] ?? undefined,
        path: (name) => event.pathParameters?.[name] ?? undefined,
        requestId: request.context?.awsRequestId ?? '',
      };
    },
  };
}

/** Bounds and parses a JSON body: 413 when too large, 415 when not JSON, 400 when malformed. */
function jsonBody(maxBytes: number): MiddlewareObj<RouteEvent, APIGatewayProxyResult> {
  return {
    before: (request) => {
      const event = request.event;
      // API Gateway always sends the text; serverless offline hands a falsy JSON body (`false`, `0`) over parsed.
      const sent: unknown = event.body;
      const raw = typeof sent === 'string' ? sent : sent === null || sent === undefined ? '' : JSON.stringify(sent);
      const bytes = event.isBase64Encoded ? Buffer.from(raw, 'base64') : Buffer.from(raw, 'utf8');
      if (bytes.length > maxBytes) throw ApiError.of(Code.tooLarge, `body larger than ${maxBytes} bytes`);
      const contentType = headerOf(event, 'content-type') ?? '';
      if (!/^application\/([\w.+-]+\+)?json\s*(;|$)/i.test(contentType.trim())) {
        throw ApiError.of(Code.unsupportedMediaType, 'content type must be application/json');
      }
      event.route.bodyText = bytes.toString('utf8');
      try {
        event.route.body = JSON.parse(event.route.bodyText);
      } catch {
        throw ApiError.of(Code.badRequest, 'malformed JSON');
      }
    },
  };
}

function authentication(): MiddlewareObj<RouteEvent, APIGatewayProxyResult> {
  return {
    before: async (request) => {
      request.event.route.caller = await authenticate(request.event.route.header('authorization'));
    },
  };
}
