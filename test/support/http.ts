import { createHash, randomUUID } from 'node:crypto';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { expectDocumented } from './contract';

// API Gateway events and calls through the real handlers.

export const TILLS = {
  demo: ['demo.till', 'demo-password'],
  store2: ['store2.till', 'store2-password'],
  other: ['other.till', 'other-password'],
  limited: ['limited.till', 'limited-password'],
} as const;

export function basicAuth(username: string, password: string): string {
  const md5 = createHash('md5').update(password).digest('hex');
  return `Basic ${Buffer.from(`${username}:${md5}`).toString('base64')}`;
}

export interface EventOptions {
  till?: keyof typeof TILLS | null;
  headers?: Record<string, string>;
  query?: Record<string, string>;
  pathParameters?: Record<string, string>;
  rawBody?: string;
}

export function apiEvent(method: string, path: string, body: unknown, options: EventOptions = {}): APIGatewayProxyEvent {
  const till = options.till === undefined ? 'demo' : options.till;
  const headers: Record<string, string> = {
    ...(body !== undefined || options.rawBody !== undefined ? { 'Content-Type': 'application/json' } : {}),
    ...(till ? { Authorization: basicAuth(TILLS[till][0], TILLS[till][1]) } : {}),
    ...options.headers,
  };
  return {
    httpMethod: method,
    path,
    resource: path,
    headers,
    multiValueHeaders: {},
    queryStringParameters: options.query ?? null,
    multiValueQueryStringParameters: null,
    pathParameters: options.pathParameters ?? null,
    stageVariables: null,
    requestContext: {} as APIGatewayProxyEvent['requestContext'],
    body: options.rawBody ?? (body === undefined ? null : JSON.stringify(body)),
    isBase64Encoded: false,
  };
}

export function lambdaContext(): Context {
  return { awsRequestId: randomUUID(), functionName: 'test', getRemainingTimeInMillis: () => 30000 } as unknown as Context;
}

export interface Reply {
  status: number;
  headers: Record<string, string>;
  body: any;
}

type Handler = (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;

/** Calls a handler; a response that is not as docs/openapi.json documents it fails the test. */
export async function call(handler: Handler, event: APIGatewayProxyEvent): Promise<Reply> {
  const result = await handler(event, lambdaContext());
  const reply = {
    status: result.statusCode,
    headers: (result.headers ?? {}) as Record<string, string>,
    body: result.body ? JSON.parse(result.body) : undefined,
  };
  expectDocumented(event.httpMethod, event.path, reply);
  return reply;
}

/** Codes of a reply's errors, in order. */
export function codes(reply: Reply): number[] {
  return (reply.body?.errors ?? []).map((e: { code: number }) => e.code);
}

export function warningCodes(reply: Reply): number[] {
  return (reply.body?.warnings ?? []).map((w: { code: number }) => w.code);
}
