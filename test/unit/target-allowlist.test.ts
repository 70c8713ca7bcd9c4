import { allowlistAdmits, parseAllowlistEntry } from '../../shared/pipeline/target-allowlist';

function admits(entry: string, url: string): boolean {
  const parsed = parseAllowlistEntry(entry);
  if (!parsed) throw new Error(`"${entry}" did not parse`);
  return allowlistAdmits(parsed, new URL(url));
}

describe('parseAllowlistEntry', () => {
  it.each([
    ['*', { host: '*' }],
    ['  example.com  ', { host: 'example.com' }],
    ['HTTPS://Api.Example.COM:8443/', { host: 'api.example.com', scheme: 'https', port: 8443 }],
    ['http://example.com', { host: 'example.com', scheme: 'http' }],
    ['*.Example.COM', { host: '*.example.com' }],
    ['example.com:1', { host: 'example.com', port: 1 }],
    ['example.com:65535', { host: 'example.com', port: 65535 }],
    ['[::1]:8080', { host: '[::1]', port: 8080 }],
    ['0x7f.1', { host: '127.0.0.1' }],
  ])('reads "%s"', (raw, entry) => {
    expect(parseAllowlistEntry(raw)).toEqual(entry);
  });

  it.each(['example.com:0', 'example.com:65536', '[1:2:3]', 'https://', '*.', 'a.*.example.com'])(
    'refuses "%s"',
    (raw) => {
      expect(parseAllowlistEntry(raw)).toBeUndefined();
    },
  );
});

describe('allowlistAdmits', () => {
  it('matches an exact host only, not a name that ends with it', () => {
    expect(admits('api.example.com', 'https://api.example.com/x')).toBe(true);
    expect(admits('api.example.com', 'https://xapi.example.com/x')).toBe(false);
    expect(admits('api.example.com', 'https://eu.api.example.com/x')).toBe(false);
  });

  it('matches a wildcard on subdomains at any depth', () => {
    expect(admits('*.example.com', 'https://a.example.com/x')).toBe(true);
    expect(admits('*.example.com', 'https://a.b.example.com/x')).toBe(true);
    expect(admits('*.example.com', 'https://badexample.com/x')).toBe(false);
  });

  it('reads a port equal to the default as that port: example.com:443 admits https://example.com', () => {
    expect(admits('example.com:443', 'https://example.com/x')).toBe(true);
    expect(admits('example.com:443', 'http://example.com/x')).toBe(false);
  });

  it('lets * with a scheme or a port limit any host to them', () => {
    expect(admits('https://*', 'https://any.example/x')).toBe(true);
    expect(admits('https://*', 'http://any.example/x')).toBe(false);
    expect(admits('https://*', 'https://any.example:8443/x')).toBe(false);
    expect(admits('*:8443', 'https://any.example:8443/x')).toBe(true);
    expect(admits('*:8443', 'https://any.example/x')).toBe(false);
  });

  it('lets a bare * admit any scheme, host and port', () => {
    expect(admits('*', 'http://any.example:6379/x')).toBe(true);
  });
});
