import ipaddr from 'ipaddr.js';
import { allowlistAdmits, parseAllowlistEntry, type AllowlistEntry } from './target-allowlist';

export interface TargetPolicyOptions {
  /** Entries as `parseAllowlistEntry` reads them; `*` allows any target. */
  allowlist: string[];
  /** Allows loopback, private, link-local and metadata addresses (local development only). */
  allowPrivate: boolean;
}

/** Public addresses that are still the platform's own (Azure WireServer / IMDS proxy). */
const PLATFORM_ADDRESSES = new Set(['168.63.129.16']);

/** Which targets may be called: an allow-list of hosts and a refusal of non-public addresses. */
export class TargetPolicy {
  private readonly allowlist: AllowlistEntry[];

  constructor(private readonly options: TargetPolicyOptions) {
    this.allowlist = options.allowlist.map((raw) => {
      const entry = parseAllowlistEntry(raw);
      if (!entry) throw new Error(`"${raw}" is not a valid DATASYNC_TARGET_ALLOWLIST entry`);
      return entry;
    });
  }

  /** Why this URL may not be called, judged from the URL alone (names are resolved later). */
  refusalForUrl(url: string): string | undefined {
    const parsed = new URL(url);
    if (!this.allowlist.some((entry) => allowlistAdmits(entry, parsed))) {
      return `${parsed.origin} is not allowed by DATASYNC_TARGET_ALLOWLIST (an entry without a port allows only ports 80 and 443)`;
    }
    const host = parsed.hostname.toLowerCase().replace(/^\[|\]$/g, '');
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
}
