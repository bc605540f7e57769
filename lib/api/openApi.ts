// GET /v2/openapi.json: the committed document (`npm run build:openapi`; a unit test keeps it
// equal to what the schemas generate), whose `servers` name the address it was fetched from, so
// that "try it" in a viewer calls the API that served it (another port of `npm start`, a stage's
// own domain). The address is taken only when well-formed: a host name or an IP address and a
// port, and in AWS a stage name. Anything else gets the committed `servers`, so nothing a caller
// sends is ever copied into the document as it came.
//
//   local stage (`npm start`)   http://<Host header>               (offline has no stage prefix)
//   AWS, execute-api domain     https://<domain>/<stage>           (API Gateway's requestContext)
//   AWS, custom domain          https://<domain>                   (mapped with no base path)

import document from '../../docs/openapi.json';
import type { Answer } from './answer';

export interface ServedFrom {
  /** The request's Host header (what a local client connected to). */
  host?: string;
  /** API Gateway's requestContext.domainName and stage (set by API Gateway, not by the caller). */
  domainName?: string;
  stage?: string;
  /** The local stage: plain http and the Host header. */
  local: boolean;
}

/** A DNS name (labels of letters, digits and hyphens), an IPv4 address or a bracketed IPv6 one. */
const HOST =
  /^(?:(?=.{1,253}(?::|$))(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?|\[[0-9a-f:.]{2,45}\])(?::(\d{1,5}))?$/i;
const STAGE = /^[A-Za-z0-9_-]{1,128}$/;
const EXECUTE_API = /\.execute-api\.[a-z0-9-]+\.amazonaws\.com$/i;

/** Serialised documents by server URL: one or two per instance in AWS, a few ports locally. */
const served = new Map<string, string>();
const MAX_SERVED = 16;
const committed = JSON.stringify(document);

export function openApiAnswer(from: ServedFrom): Answer {
  return { status: 200, body: documentFor(serverUrl(from)), headers: {}, outcome: 'ok' };
}

/** The base URL of the API as the request reached it, or undefined when it is not well-formed. */
export function serverUrl({ host, domainName, stage, local }: ServedFrom): string | undefined {
  if (local) return wellFormedHost(host) ? `http://${host!.toLowerCase()}` : undefined;
  if (!wellFormedHost(domainName) || domainName!.includes(':')) return undefined;
  const domain = domainName!.toLowerCase();
  if (!EXECUTE_API.test(domain)) return `https://${domain}`;
  return stage !== undefined && STAGE.test(stage) ? `https://${domain}/${stage}` : undefined;
}

function wellFormedHost(host: string | undefined): boolean {
  if (host === undefined) return false;
  const match = HOST.exec(host);
  if (!match) return false;
  const port = match[1];
  return port === undefined || (Number(port) >= 1 && Number(port) <= 65535);
}

function documentFor(url: string | undefined): string {
  if (url === undefined) return committed;
  let body = served.get(url);
  if (body === undefined) {
    body = JSON.stringify({ ...document, servers: [{ url, description: 'the server this document was fetched from' }] });
    if (served.size >= MAX_SERVED) served.clear();
    served.set(url, body);
  }
  return body;
}
