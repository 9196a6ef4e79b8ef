import type { IncomingMessage } from "node:http";
import type { Context } from "hono";
import proxyaddr from "proxy-addr";
import { ConfigError, type TrustProxy } from "../config.ts";

/** Headers by which a proxy names the client; a request that carries one came through a proxy. */
const FORWARDING_HEADERS = ["forwarded", "x-forwarded-for", "x-real-ip", "cf-connecting-ip"];

type NodeContext = Context<{ Bindings: { incoming?: IncomingMessage } }>;

/**
 * The client's address on Node: the socket's peer, or, with TRUST_PROXY, the first address in
 * X-Forwarded-For that is not one of the trusted proxies (proxy-addr, Express's own rule), so
 * that behind a load balancer each buyer has a bucket of their own.
 */
export function nodeClientAddress(trust: TrustProxy | null): (c: Context) => string | null {
  const trusts = trust ? compileTrust(trust) : null;
  return (c) => {
    const incoming = (c as NodeContext).env?.incoming;
    if (!incoming?.socket?.remoteAddress) return null;
    return trusts ? proxyaddr(incoming, trusts) : incoming.socket.remoteAddress;
  };
}

/**
 * Whether the request comes from this machine itself: the socket's peer is a loopback address and
 * no proxy relayed it (a reverse proxy on the same machine connects from loopback too, on behalf
 * of anyone). Whatever is open without a session to "the machine itself" asks this, never the
 * configuration.
 */
export function isFromThisMachine(c: Context): boolean {
  const peer = (c as NodeContext).env?.incoming?.socket?.remoteAddress;
  if (!peer || !isLoopbackAddress(peer)) return false;
  return FORWARDING_HEADERS.every((name) => c.req.header(name) === undefined);
}

export function isLoopbackAddress(address: string): boolean {
  return /^(127\.\d+\.\d+\.\d+|::1|::ffff:127\.\d+\.\d+\.\d+)$/i.test(address);
}

function compileTrust(trust: TrustProxy): (address: string, hop: number) => boolean {
  if ("hops" in trust) return (_address, hop) => hop < trust.hops;
  try {
    return proxyaddr.compile(trust.addresses);
  } catch (error) {
    throw new ConfigError([
      {
        variable: "TRUST_PROXY",
        message: `${error instanceof Error ? error.message : String(error)} (addresses like 10.0.0.0/8 or 192.168.1.10, or loopback)`,
      },
    ]);
  }
}
