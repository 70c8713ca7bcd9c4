/**
 * One DATASYNC_TARGET_ALLOWLIST entry: `*` (any target), a host (`api.example.com`), its subdomains
 * (`*.example.com`), each optionally with a scheme and a port (`https://api.example.com:8443`,
 * `api.example.com:8080`). Without a port an entry allows the default port of http (80) and https
 * (443) only, so `example.com` does not open `example.com:6379`.
 */
export interface AllowlistEntry {
  /** `*`, a host name or address as URL.hostname writes it, or `*.` + a domain. */
  host: string;
  scheme?: 'http' | 'https';
  port?: number;
}

const DEFAULT_PORTS: Record<string, number> = { 'http:': 80, 'https:': 443 };
const ENTRY =
  /^(?:(?<scheme>https?):\/\/)?(?<host>\*|(?:\*\.)?[a-z0-9](?:[a-z0-9.-]*[a-z0-9])?|\[[0-9a-f:.]+\])(?::(?<port>\d{1,5}))?\/?$/i;

/** The entry, or undefined when it is not one (a path, a user, another scheme, a bad port...). */
export function parseAllowlistEntry(raw: string): AllowlistEntry | undefined {
  const match = ENTRY.exec(raw.trim());
  if (!match?.groups) return undefined;
  const { scheme, host = '', port } = match.groups;
  if (port !== undefined && (Number(port) < 1 || Number(port) > 65535)) return undefined;
  const normalized = normalizeHost(host);
  if (normalized === undefined) return undefined;
  return {
    host: normalized,
    ...(scheme ? { scheme: scheme.toLowerCase() as 'http' | 'https' } : {}),
    ...(port ? { port: Number(port) } : {}),
  };
}

/** Whether an entry admits this URL (scheme, host and port). */
export function allowlistAdmits(entry: AllowlistEntry, url: URL): boolean {
  if (entry.host === '*' && entry.port === undefined && entry.scheme === undefined) return true;
  if (entry.scheme !== undefined && url.protocol !== `${entry.scheme}:`) return false;
  const port = url.port === '' ? DEFAULT_PORTS[url.protocol] : Number(url.port);
  if (entry.port === undefined ? port !== DEFAULT_PORTS[url.protocol] : port !== entry.port) return false;
  const host = url.hostname.toLowerCase();
  if (entry.host === '*') return true;
  if (entry.host.startsWith('*.')) return host.endsWith(entry.host.slice(1));
  return host === entry.host;
}

/** The host as a URL would write it (lower case, IDN as punycode, IPv4 in dotted form). */
function normalizeHost(host: string): string | undefined {
  if (host === '*') return host;
  const wildcard = host.startsWith('*.');
  try {
    const hostname = new URL(`http://${wildcard ? host.slice(2) : host}`).hostname;
    return wildcard ? `*.${hostname}` : hostname;
  } catch {
    return undefined;
  }
}
