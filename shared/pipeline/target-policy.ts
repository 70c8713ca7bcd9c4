import ipaddr from 'ipaddr.js';

export interface TargetPolicyOptions {
  /** Host names; `*` allows any host, `*.example.com` any subdomain of example.com. */
  allowlist: string[];
  /** Allows loopback, private, link-local and metadata addresses (local development only). */
  allowPrivate: boolean;
}

/** Public addresses that are still the platform's own (Azure WireServer / IMDS proxy). */
const PLATFORM_ADDRESSES = new Set(['168.63.129.16']);

/** Which targets may be called: an allow-list of hosts and a refusal of non-public addresses. */
export class TargetPolicy {
  constructor(private readonly options: TargetPolicyOptions) {}

  /** Why this URL may not be called, judged from the URL alone (names are resolved later). */
  refusalForUrl(url: string): string | undefined {
    const host = new URL(url).hostname.toLowerCase().replace(/^\[|\]$/g, '');
    if (!this.hostAllowed(host)) return `host "${host}" is not in DATASYNC_TARGET_ALLOWLIST`;
    if (this.options.allowPrivate) return undefined;
    if (host === 'localhost' || host.endsWith('.localhost')) return `host "${host}" is a loopback name`;
    if (ipaddr.isValid(host)) return this.refusalForAddress(host);
    return undefined;
  }

  /** Why a resolved address may not be connected to. */
  refusalForAddress(address: string): string | undefined {
    if (this.options.allowPrivate) return undefined;
    if (!ipaddr.isValid(address)) return `"${address}" is not an IP address`;
    const parsed = ipaddr.process(address);
    const range = parsed.range();
    if (range !== 'unicast') return `address ${parsed.toString()} is ${range}, not a public address`;
    if (PLATFORM_ADDRESSES.has(parsed.toString()))
      return `address ${parsed.toString()} is a platform endpoint`;
    return undefined;
  }

  private hostAllowed(host: string): boolean {
    return this.options.allowlist.some((entry) => {
      const pattern = entry.toLowerCase();
      if (pattern === '*') return true;
      if (pattern.startsWith('*.')) return host.endsWith(pattern.slice(1));
      return host === pattern;
    });
  }
}
