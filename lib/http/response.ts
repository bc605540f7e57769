// The spec's response shapes as API Gateway proxy results.

import type { APIGatewayProxyResult } from 'aws-lambda';
import type { Answer } from '../api/answer';
import { ApiError, Code, errorBody } from '../errors';

function json(statusCode: number, body: unknown, headers: Record<string, string> = {}): APIGatewayProxyResult {
  return proxyResult(statusCode, JSON.stringify(body), headers);
}

export function fromAnswer(answer: Answer): APIGatewayProxyResult {
  return proxyResult(answer.status, answer.body, answer.headers);
}

function proxyResult(statusCode: number, body: string, headers: Record<string, string>): APIGatewayProxyResult {
  return { statusCode, headers: { 'Content-Type': 'application/json', ...headers }, body };
}

export function errorResponse(error: ApiError): APIGatewayProxyResult {
  return json(error.status, errorBody(error.problems, error.warnings), error.headers);
}

/** What a client sees of a failure that is not its own: no stack, no internals. */
export function internalErrorResponse(): APIGatewayProxyResult {
  return json(500, { errors: [{ status: false, code: Code.internal, message: 'internal error' }], warnings: [] });
}
