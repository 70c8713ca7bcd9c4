import { lookup as dnsLookup, type LookupAddress, type LookupOptions } from 'node:dns';
import type { LookupFunction } from 'node:net';
import type { TargetPolicy } from '../../pipeline/target-policy';

export const FORBIDDEN_TARGET = 'EFORBIDDENTARGET';

/**
 * A `lookup` for http(s) agents that refuses to hand a forbidden address to `connect`: the check is
 * made on what the name resolves to at connect time, so DNS tricks (a public name that resolves to
 * 127.0.0.1, rebinding between ingest and delivery) are caught.
 */
export function guardedLookup(policy: TargetPolicy, resolve: typeof dnsLookup = dnsLookup): LookupFunction {
  return (hostname, options, callback) => {
    resolve(hostname, { ...(options as LookupOptions), all: true }, (error, addresses: LookupAddress[]) => {
      if (error) return callback(error, '', 0);
      for (const { address } of addresses) {
        const refusal = policy.refusalForAddress(address);
        if (refusal) {
          const forbidden = Object.assign(
            new Error(`${hostname} resolves to a forbidden address: ${refusal}`),
            {
              code: FORBIDDEN_TARGET,
            },
          );
          return callback(forbidden, '', 0);
        }
      }
      if ((options as LookupOptions).all) return callback(null, addresses as unknown as string, 0);
      const [first] = addresses;
      if (!first)
        return callback(Object.assign(new Error(`${hostname} has no address`), { code: 'ENOTFOUND' }), '', 0);
      return callback(null, first.address, first.family);
    });
  };
}
