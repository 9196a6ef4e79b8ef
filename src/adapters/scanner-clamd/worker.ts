import { connect } from "cloudflare:sockets";
import type { ClamdConnect } from "./index.ts";

/** clamd through Workers' TCP sockets (`connect()`): plain TCP, as clamd speaks it. */
export const workerClamdConnect: ClamdConnect = async ({ host, port }) => {
  const socket = connect({ hostname: host, port });
  await socket.opened;
  return {
    readable: socket.readable,
    writable: socket.writable,
    close: () => {
      socket.close().catch(() => {});
    },
  };
};
