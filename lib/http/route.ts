import middy, { type MiddlewareObj } from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { authenticate, type Caller } from '../auth';
import { ApiError } from '../errors';
import { Replay } from '../idempotency';
import { log } from '../log';
import { errorResponse, internalErrorResponse } from './response';

/**
 * Every route is wrapped the same way: log the outcome, map errors to the spec's responses,
 * read and bound the JSON body, authenticate the till. Handlers then get a typed request and
 * call one domain function.
 */

export interface RouteRequest {
  event: APIGatewayProxyEvent;
  caller: Caller;
  /** Parsed JSON body (routes declared with `body: true`). */
  body: unknown;
  /** Header lookup, case-insensitive as HTTP is. */
  header(name: string): string | undefined;
  query(name: string): string | undefined;
  path(name: string): string | undefined;
  requestId: string;
  /** Headers added to whatever response the request gets (rate limit state). */
  responseHeaders: Record<string, string>;
  /** What happened, for the request's log line (created, merged, replayed...). */
  outcome?: string;
}

export type RouteHandler = (request: RouteRequest) => Promise<APIGatewayProxyResult>;

export interface RouteOptions {
  /** Whether the route takes a JSON body. */
  body?: boolean;
}

/** The Lambda event once the route's middlewares have read it. */
export interface RouteEvent extends APIGatewayProxyEvent {
  route: RouteRequest;
}

export const MAX_BODY_BYTES = 64 * 1024;

export function route(name: string, options: RouteOptions, handler: RouteHandler) {
  const wrapped = middy<RouteEvent, APIGatewayProxyResult, Error, Context>()
    .use(outcomes(name))
    .use(requestContext())
    .use(authentication());
  // Credentials first, then the body: a stranger learns nothing about how it would be judged.
  if (options.body) wrapped.use(jsonBody());
  // API Gateway hands in a plain proxy event; `route` is added by requestContext.
  return wrapped.handler((event) => handler(event.route)) as unknown as LambdaHandler;
}

export type LambdaHandler = (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;

function headerOf(event: APIGatewayProxyEvent, name: string): string | undefined {
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(event.headers ?? {})) {
    if (key.toLowerCase() === wanted && value !== undefined) return value;
  }
  return undefined;
}

/** Logs one line per request and turns errors into responses; nothing else answers 500. */
function outcomes(route: string): MiddlewareObj<RouteEvent, APIGatewayProxyResult> {
  const started = new WeakMap<object, number>();
  const finish = (request: { event: RouteEvent; context: Context; response: APIGatewayProxyResult | null }, code?: number) => {
    const response = request.response;
    const state = request.event.route;
    if (response && state) response.headers = { ...response.headers, ...state.responseHeaders };
    log.info({
      requestId: request.context?.awsRequestId,
      route,
      org: state?.caller?.org.orgId,
      outcome: state?.outcome ?? (code === undefined ? 'ok' : 'rejected'),
      status: response?.statusCode,
      code,
      latencyMs: Date.now() - (started.get(request.event) ?? Date.now()),
    }, 'request');
  };
  return {
    before: (request) => {
      started.set(request.event, Date.now());
    },
    after: (request) => finish(request),
    onError: (request) => {
      const error = request.error;
      if (error instanceof Replay) {
        request.response = {
          statusCode: error.response.statusCode,
          headers: { 'Content-Type': 'application/json', 'Idempotent-Replayed': 'true' },
          body: error.response.body,
        };
        if (request.event.route) request.event.route.outcome = 'replayed';
        finish(request);
        return;
      }
      if (error instanceof ApiError) {
        if (error.status === 429 && request.event.route) request.event.route.outcome = 'rate_limited';
        request.response = errorResponse(error);
        finish(request, error.problems[0].code);
        return;
      }
      log.error({ requestId: request.context?.awsRequestId, route, err: error }, 'unexpected failure');
      request.response = internalErrorResponse();
      finish(request, 500);
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
        header: (name) => headerOf(event, name),
        query: (name) => event.queryStringParameters?.[name] ?? undefined,
        path: (name) => event.pathParameters?.[name] ?? undefined,
        requestId: request.context?.awsRequestId ?? '',
        responseHeaders: {},
      };
    },
  };
}

/** Bounds and parses a JSON body: 413 when too large, 415 when not JSON, 400 when malformed. */
function jsonBody(): MiddlewareObj<RouteEvent, APIGatewayProxyResult> {
  return {
    before: (request) => {
      const event = request.event;
      const raw = event.body ?? '';
      const bytes = event.isBase64Encoded ? Buffer.from(raw, 'base64') : Buffer.from(raw, 'utf8');
      if (bytes.length > MAX_BODY_BYTES) throw ApiError.of(413, `body larger than ${MAX_BODY_BYTES} bytes`);
      const contentType = headerOf(event, 'content-type') ?? '';
      if (!/^application\/([\w.+-]+\+)?json\s*(;|$)/i.test(contentType.trim())) {
        throw ApiError.of(415, 'content type must be application/json');
      }
      try {
        event.route.body = JSON.parse(bytes.toString('utf8'));
      } catch {
        throw ApiError.of(400, 'malformed JSON');
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
