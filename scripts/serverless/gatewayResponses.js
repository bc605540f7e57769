'use strict';

/**
 * Answers that API Gateway itself makes (its throttling, an unknown path, a body it refuses, a
 * function that failed or timed out) in the spec's error shape, `{"errors": [...], "warnings": []}`,
 * with the HTTP status as the code, as the functions' own answers are (SPEC section 4). No CORS
 * headers: the clients are tills, servers and apps holding a till's password, not browser pages.
 *
 * API Gateway's default status per response type is kept, except: MISSING_AUTHENTICATION_TOKEN,
 * its answer to a path or method no route has, is 404 (as serverless offline answers); its own
 * faults are 502, never 500 (SPEC section 4); and the catch-alls have a fixed status so that the
 * code in the body always equals it.
 */
const DENIED = 'access denied';
const FAILED = 'the service failed to answer; retry with the same Idempotency-Key';

const RESPONSES = [
  ['BAD_REQUEST_BODY', 400, 'the request body was refused'],
  ['BAD_REQUEST_PARAMETERS', 400, 'a request parameter was refused'],
  ['UNAUTHORIZED', 401, 'missing or wrong credentials'],
  ['ACCESS_DENIED', 403, DENIED],
  ['MISSING_AUTHENTICATION_TOKEN', 404, 'no such route'],
  ['RESOURCE_NOT_FOUND', 404, 'no such route'],
  ['REQUEST_TOO_LARGE', 413, 'body too large'],
  ['UNSUPPORTED_MEDIA_TYPE', 415, 'content type is not JSON'],
  ['THROTTLED', 429, 'too many requests to this stage; retry after a second', { 'Retry-After': "'1'" }],
  ['QUOTA_EXCEEDED', 429, 'request quota exceeded', { 'Retry-After': "'60'" }],
  ['EXPIRED_TOKEN', 403, DENIED],
  ['INVALID_API_KEY', 403, DENIED],
  ['INVALID_SIGNATURE', 403, DENIED],
  ['WAF_FILTERED', 403, DENIED],
  ['DEFAULT_4XX', 400, 'the request was refused'],
  // The function failed or did not answer: it may have written; a retry with the same
  // Idempotency-Key learns the outcome.
  ['INTEGRATION_FAILURE', 502, FAILED],
  ['INTEGRATION_TIMEOUT', 504, 'the service did not answer in time; retry with the same Idempotency-Key'],
  ['API_CONFIGURATION_ERROR', 502, FAILED],
  ['AUTHORIZER_CONFIGURATION_ERROR', 502, FAILED],
  ['AUTHORIZER_FAILURE', 502, FAILED],
  ['DEFAULT_5XX', 502, FAILED],
];

class GatewayResponses {
  constructor(serverless) {
    this.serverless = serverless;
    this.hooks = { 'before:package:finalize': () => this.apply() };
  }

  static responses() {
    return RESPONSES.map(([type, status, message, headers = {}]) => ({ type, status, message, headers }));
  }

  apply() {
    const resources = this.serverless.service.provider.compiledCloudFormationTemplate.Resources;
    if (!resources.ApiGatewayRestApi) return;
    const ids = [];
    for (const { type, status, message, headers } of GatewayResponses.responses()) {
      const id = `GatewayResponse${type
        .split('_')
        .map((word) => word[0] + word.slice(1).toLowerCase())
        .join('')}`;
      resources[id] = {
        Type: 'AWS::ApiGateway::GatewayResponse',
        Properties: {
          RestApiId: { Ref: 'ApiGatewayRestApi' },
          ResponseType: type,
          StatusCode: String(status),
          ResponseParameters: Object.fromEntries(
            Object.entries({ 'Content-Type': "'application/json'", ...headers }).map(([name, value]) => [
              `gatewayresponse.header.${name}`,
              value,
            ]),
          ),
          ResponseTemplates: { 'application/json': JSON.stringify(errorBody(status, message)) },
        },
      };
      ids.push(id);
    }
    // Gateway responses take effect with the next deployment of the stage: this one.
    for (const resource of Object.values(resources)) {
      if (resource.Type !== 'AWS::ApiGateway::Deployment') continue;
      resource.DependsOn = [...new Set([...[resource.DependsOn ?? []].flat(), ...ids])];
    }
  }
}

function errorBody(code, message) {
  return { errors: [{ status: false, code, message }], warnings: [] };
}

module.exports = GatewayResponses;
