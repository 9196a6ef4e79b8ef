/**
 * fetch for outgoing webhooks on Node (decision 0017) that never connects to an address the
 * caller refuses. The check runs in the connection's own DNS lookup, on the very addresses it
 * then connects to: a name cannot answer a public address to a check and a private one to the
 * connection a moment later (DNS rebinding). Addresses written in the URL are not looked up:
 * the core refuses those by name before it posts.
 */
import { lookup as dnsLookup, type LookupAddress } from "node:dns";
import type { LookupFunction } from "node:net";
import { Agent, fetch as undiciFetch } from "undici";

type Lookup = (
  hostname: string,
  options: { all: true },
  callback: (error: NodeJS.ErrnoException | null, addresses: LookupAddress[]) => void,
) => void;

export function addressCheckedFetch(opts: {
  /** Why a connection to this address is refused (said in the fetch error's cause), or null. */
  refuse: (address: string) => string | null;
  /** Name resolution; the system's by default. */
  lookup?: Lookup;
}): typeof fetch {
  const resolve: Lookup =
    opts.lookup ?? ((host, options, callback) => dnsLookup(host, options, callback));
  const lookup: LookupFunction = (hostname, options, callback) => {
    resolve(hostname, { all: true }, (error, addresses) => {
      if (error) return callback(error, "", 0);
      for (const { address } of addresses) {
        const reason = opts.refuse(address);
        if (reason)
          return callback(Object.assign(new Error(reason), { code: "EREFUSED_ADDRESS" }), "", 0);
      }
      const wanted = options.family === 4 || options.family === 6 ? options.family : 0;
      const usable = addresses.filter((a) => !wanted || a.family === wanted);
      if (options.all) return (callback as AllCallback)(null, usable);
      const [first] = usable;
      if (!first)
        return callback(
          Object.assign(new Error(`${hostname} has no address`), { code: "ENOTFOUND" }),
          "",
          0,
        );
      callback(null, first.address, first.family);
    });
  };
  const dispatcher = new Agent({ connect: { lookup } });
  return ((input: RequestInfo | URL, init?: RequestInit) =>
    undiciFetch(input as never, { ...(init as object), dispatcher })) as unknown as typeof fetch;
}

type AllCallback = (error: null, addresses: LookupAddress[]) => void;
