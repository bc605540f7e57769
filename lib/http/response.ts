import type { APIGatewayProxyResult } from 'aws-lambda';
import { ApiError, type Warning } from '../errors';

/** The spec's response shapes: problems and warnings as `{status: false, code, message, path}`. */

export function json(statusCode: number, body: unknown, headers: Record<string, string> = {}): APIGatewayProxyResult {
  return {
    statusCode,
    headers: { 'Content-Type': 'application/json', ...headers },
    body: JSON.stringify(body),
  };
}

export function asStatusList(problems: readonly Warning[]): Array<Warning & { status: false }> {
  return problems.map(({ code, message, path }) => (path === undefined ? { status: false, code, message } : { status: false, code, message, path }));
}

export function errorResponse(error: ApiError): APIGatewayProxyResult {
  return json(
    error.status,
    { errors: asStatusList(error.problems), warnings: asStatusList(error.warnings) },
    error.headers,
  );
}

/** What a client sees of a failure that is not its own: no stack, no internals. */
export function internalErrorResponse(): APIGatewayProxyResult {
  return json(500, { errors: [{ status: false, code: 500, message: 'internal error' }], warnings: [] });
}
