// Where a webhook may be sent (SPEC section 10). An org file names the URL, so in AWS stages a
// subscription must not reach into the stage's own network or the instance metadata service:
// the URL must be https, and every address its host resolves to must be a public unicast
// address (ipaddr.js `range()` is 'unicast'). One bad address refuses the whole target, so a
// name that resolves to a public and a private address cannot be used to pick the private one.
// The checked address is returned to be connected to (lib/webhooks/deliver.ts pins it), so a
// DNS answer that changes between the check and the connection (rebinding) cannot reach a
// private address. An IPv4 address inside IPv6 (::ffff:a.b.c.d, NAT64 64:ff9b::a.b.c.d) is
// judged as the IPv4 address it reaches; other IPv6 transition ranges (6to4, Teredo) are
// refused. Locally (`npm start`) http and loopback are allowed too, nothing else.
//
// A refusal is a value with a reason. A name that does not resolve is not a refusal: DNS may
// answer later, so the caller retries.

import { lookup as dnsLookup } from 'node:dns/promises';
import ipaddr from 'ipaddr.js';

export interface ResolvedAddress {
  address: string;
  family: number;
}

/** Every address of a host name, as `dns.lookup(host, { all: true })` gives them. */
export type HostLookup = (hostname: string) => Promise<ResolvedAddress[]>;

export interface TargetPolicy {
  /** The local stage: http and loopback addresses allowed. */
  local: boolean;
  /** Resolves host names; `dns.lookup` unless a test gives its own. */
  lookup?: HostLookup;
}

export type Target =
  /** Connect to `address` (of `family`), sending `url`'s host as Host and TLS server name. */
  | { kind: 'allowed'; url: URL; address: string; family: 4 | 6; addresses: { address: string; family: 4 | 6 }[] }
  /** Never to be sent: the reason says why. */
  | { kind: 'refused'; reason: string }
  /** The host did not resolve (now): worth a retry. */
  | { kind: 'unresolved'; reason: string };

const systemLookup: HostLookup = (hostname) => dnsLookup(hostname, { all: true, verbatim: true });

export async function checkTarget(url: string | URL, policy: TargetPolicy): Promise<Target> {
  let parsed: URL;
  try {
    parsed = typeof url === 'string' ? new URL(url) : url;
  } catch {
    return { kind: 'refused', reason: 'the URL does not parse' };
  }
  if (parsed.protocol !== 'https:' && !(policy.local && parsed.protocol === 'http:')) {
    return {
      kind: 'refused',
      reason: policy.local ? `${parsed.protocol} is neither https nor http` : 'only https URLs are sent to in AWS stages',
    };
  }
  if (parsed.username || parsed.password) return { kind: 'refused', reason: 'the URL carries credentials' };
  const host = hostOf(parsed);
  let addresses: ResolvedAddress[];
  try {
    addresses = await (policy.lookup ?? systemLookup)(host);
  } catch (error) {
    return { kind: 'unresolved', reason: `the host does not resolve (${(error as { code?: string }).code ?? (error as Error).message})` };
  }
  if (addresses.length === 0) return { kind: 'unresolved', reason: 'the host resolves to no address' };
  for (const { address } of addresses) {
    const problem = problemOfAddress(address, policy);
    if (problem) return { kind: 'refused', reason: problem };
  }
  // Every address was checked: the connection may try each in turn, as happy eyeballs does.
  const checked = addresses.map(({ address }) => ({ address, family: (ipaddr.parse(address).kind() === 'ipv6' ? 6 : 4) as 4 | 6 }));
  return { kind: 'allowed', url: parsed, address: checked[0].address, family: checked[0].family, addresses: checked };
}

/** The URL's host as DNS knows it: an IPv6 literal without its brackets. */
export function hostOf(url: URL): string {
  return url.hostname.replace(/^\[(.*)\]$/, '$1');
}

const NAT64 = ipaddr.parseCIDR('64:ff9b::/96');

/** Why an address may not be sent to under the policy, or undefined when it may. */
export function problemOfAddress(address: string, policy: Pick<TargetPolicy, 'local'>): string | undefined {
  if (!ipaddr.isValid(address)) return `${address} is not an IP address`;
  const parsed = ipaddr.parse(address);
  if (parsed.kind() === 'ipv6') {
    const v6 = parsed as ipaddr.IPv6;
    const v4 = v6.isIPv4MappedAddress()
      ? { via: 'IPv4-mapped', address: v6.toIPv4Address() }
      : v6.match(NAT64)
        ? { via: 'NAT64 for', address: ipaddr.fromByteArray(v6.toByteArray().slice(12)) }
        : undefined;
    if (v4) {
      const kind = kindOfRange(v4.address, policy);
      return kind && `${address} is ${v4.via} ${v4.address.toString()}, ${kind} address`;
    }
  }
  const kind = kindOfRange(parsed, policy);
  return kind && `${address} is ${kind} address`;
}

/** `a private` and the like, or undefined for an address that may be sent to. */
function kindOfRange(parsed: ipaddr.IPv4 | ipaddr.IPv6, policy: Pick<TargetPolicy, 'local'>): string | undefined {
  const range = parsed.range();
  if (range === 'unicast') {
    // ipaddr.js calls IPv4-compatible IPv6 (::a.b.c.d, e.g. [::7f00:1]) unicast: only the global
    // unicast range 2000::/3 is sent to.
    if (parsed.kind() === 'ipv6' && !(parsed as ipaddr.IPv6).match(GLOBAL_UNICAST_V6)) return 'a non-global IPv6 (outside 2000::/3)';
    return undefined;
  }
  if (range === 'loopback' && policy.local) return undefined;
  return RANGE_NAMES[range] ?? `a ${range}`;
}

const GLOBAL_UNICAST_V6 = ipaddr.IPv6.parseCIDR('2000::/3');

const RANGE_NAMES: Record<string, string> = {
  private: 'a private',
  loopback: 'a loopback',
  linkLocal: 'a link-local',
  uniqueLocal: 'a unique-local',
  carrierGradeNat: 'a carrier-grade NAT (100.64.0.0/10)',
  multicast: 'a multicast',
  unspecified: 'an unspecified',
  broadcast: 'a broadcast',
  reserved: 'a reserved',
};
