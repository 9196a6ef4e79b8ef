import { IncomingMessage } from "node:http";
import type { Context } from "hono";

type NodeContext = Context<{ Bindings: { incoming?: IncomingMessage } }>;

/**
 * The request body read straight from Node's IncomingMessage, at most `limit` bytes (null past
 * it). Going through `Request.body` instead makes @hono/node-server build a Web Request, a
 * ReadableStream and an AbortSignal for every POST, which cost the licence API half its
 * throughput (docs/performance.md). Past the limit it stops collecting and lets the stream run
 * on: @hono/node-server drains what is left once the answer (413) has gone.
 */
export function readNodeBody(c: Context, limit: number): Promise<Uint8Array | null> | undefined {
  const incoming = (c as NodeContext).env?.incoming;
  if (!(incoming instanceof IncomingMessage) || incoming.readableDidRead) return undefined;
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const settle = () => {
      incoming.off("data", onData);
      incoming.off("end", onEnd);
      incoming.off("error", reject);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) return void chunks.push(chunk);
      settle();
      resolve(null);
    };
    const onEnd = () => {
      settle();
      resolve(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, size));
    };
    incoming.on("data", onData);
    incoming.on("end", onEnd);
    incoming.on("error", reject);
  });
}
