/**
 * clamd over TCP (CLAMD_URL=tcp://host:port; decision 0027), the same protocol code on Node
 * (node.ts: a net socket) and Workers (worker.ts: `connect()` from cloudflare:sockets). A file
 * goes as INSTREAM: `zINSTREAM\0`, then chunks each prefixed with its length as 4 bytes big-endian,
 * then a zero length; clamd answers `stream: OK`, `stream: <Signature> FOUND`, or an error such
 * as `INSTREAM size limit exceeded. ERROR` (past its StreamMaxLength) — never taken as clean.
 * One chunk is in flight at a time, so memory stays flat whatever the file's size.
 */
import type { MalwareScanner, ScanVerdict } from "../../core/ports.ts";

/** A connected byte stream both ways, as each runtime opens it. */
export interface ClamdSocket {
  readable: ReadableStream<Uint8Array>;
  writable: WritableStream<Uint8Array>;
  close(): void;
}

export type ClamdConnect = (address: { host: string; port: number }) => Promise<ClamdSocket>;

export interface ClamdOptions {
  host: string;
  port: number;
  connect: ClamdConnect;
  /** Connecting, and PING or VERSION answering (default 5 s). */
  commandTimeoutMs?: number;
  /** clamd's answer after the last byte was sent, and any pause while sending (default 10 min). */
  scanTimeoutMs?: number;
}

/** The largest chunk sent at once (clamd reads any size; small ones keep memory flat). */
const CHUNK = 64 * 1024;
const encoder = new TextEncoder();

export function clamdScanner(opts: ClamdOptions): MalwareScanner {
  const where = `${opts.host.includes(":") ? `[${opts.host}]` : opts.host}:${opts.port}`;
  const name = `clamd at ${where}`;
  const commandTimeoutMs = opts.commandTimeoutMs ?? 5_000;
  const scanTimeoutMs = opts.scanTimeoutMs ?? 10 * 60_000;

  const open = () =>
    withTimeout(
      opts.connect({ host: opts.host, port: opts.port }),
      commandTimeoutMs,
      `${name} did not accept a connection within ${commandTimeoutMs / 1000} s`,
    ).catch((error: unknown) => {
      throw new Error(`${name} cannot be reached: ${describe(error)}`);
    });

  /** Sends a one-line command and reads its one reply. */
  async function command(text: string): Promise<string> {
    const socket = await open();
    try {
      const reply = readReply(socket.readable);
      const writer = socket.writable.getWriter();
      await writer.write(encoder.encode(`z${text}\0`));
      writer.releaseLock();
      return await withTimeout(
        reply,
        commandTimeoutMs,
        `${name} did not answer ${text} within ${commandTimeoutMs / 1000} s`,
      );
    } finally {
      socket.close();
    }
  }

  return {
    name,
    async ping() {
      const reply = await command("PING");
      if (reply !== "PONG") throw new Error(`${name} answered PING with "${reply}", not PONG`);
    },
    version: () => command("VERSION"),
    async scan(body) {
      let socket: ClamdSocket;
      try {
        socket = await open();
      } catch (error) {
        await body.cancel().catch(() => {});
        return { status: "failed", reason: describe(error) };
      }
      try {
        return await instream(socket, body, name, scanTimeoutMs);
      } catch (error) {
        const reason =
          error instanceof TimeoutError ? error.message : `${name}: ${describe(error)}`;
        return { status: "failed", reason };
      } finally {
        socket.close();
      }
    },
  };
}

async function instream(
  socket: ClamdSocket,
  body: ReadableStream<Uint8Array>,
  name: string,
  timeoutMs: number,
): Promise<ScanVerdict> {
  // clamd may answer before the end (a size limit, an error): the reply is read all along.
  let answered = false;
  const reply = readReply(socket.readable).then(
    (text) => {
      answered = true;
      return text;
    },
    (error: unknown) => {
      answered = true;
      throw error;
    },
  );
  reply.catch(() => {});
  const writer = socket.writable.getWriter();
  const reader = body.getReader();
  const send = async () => {
    await writer.write(encoder.encode("zINSTREAM\0"));
    for (;;) {
      const { done, value } = await reader.read();
      if (done || answered) break;
      for (let at = 0; at < value.length && !answered; at += CHUNK) {
        // A turn of the event loop first, so an answer clamd sent meanwhile (a size limit) is
        // read before a write to its closed connection fails and loses it.
        await breathe();
        if (answered) break;
        const part = value.subarray(at, at + CHUNK);
        const length = new Uint8Array(4);
        new DataView(length.buffer).setUint32(0, part.length);
        await writer.write(length);
        await writer.write(part);
      }
    }
    if (!answered) await writer.write(new Uint8Array(4));
  };
  const sending = send().then(
    () => null,
    (error: unknown) => error,
  );
  // Whichever comes first: clamd's answer, or the end of sending (then its answer).
  const first = await withTimeout(
    Promise.race([reply.then(() => null), sending]),
    timeoutMs,
    `${name} did not take the whole file within ${timeoutMs / 1000} s`,
  ).catch((error: unknown) => error);
  // The file is not read further: the store's stream is released, whatever comes next.
  await reader.cancel().catch(() => {});
  if (first instanceof TimeoutError) return { status: "failed", reason: first.message };
  if (first) {
    // Sending failed: clamd may have closed after answering, so the answer decides if it came.
    if (!answered) await Promise.race([reply, delay(1_000)]).catch(() => {});
    const text = answered ? await reply.catch(() => "") : "";
    if (!text)
      return {
        status: "failed",
        reason: `${name} closed the connection before the whole file was sent (${describe(first)}); clamd does so when a file is larger than its StreamMaxLength`,
      };
  }
  const text = await withTimeout(
    reply,
    timeoutMs,
    `${name} did not answer within ${timeoutMs / 1000} s of the end of the file`,
  );
  return verdictOf(text, name);
}

/** clamd's INSTREAM reply as a verdict. */
export function verdictOf(reply: string, name = "clamd"): ScanVerdict {
  const text = reply.replace(/^stream:\s*/, "");
  if (text === "OK") return { status: "clean" };
  const found = /^(.+) FOUND$/.exec(text);
  if (found?.[1]) return { status: "infected", signature: found[1] };
  if (/size limit exceeded/i.test(text))
    return {
      status: "failed",
      reason: `the file is larger than ${name} scans (its StreamMaxLength): "${reply}"`,
    };
  return { status: "failed", reason: `${name} answered "${reply || "nothing"}"` };
}

/** One reply: the text up to the NUL that ends it (or the end of the connection). */
async function readReply(readable: ReadableStream<Uint8Array>): Promise<string> {
  const reader = readable.getReader();
  const decoder = new TextDecoder();
  let text = "";
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      const end = value.indexOf(0);
      text += decoder.decode(end === -1 ? value : value.subarray(0, end), { stream: true });
      if (end !== -1) break;
      if (text.length > 4096) break;
    }
  } finally {
    reader.releaseLock();
  }
  return (text + decoder.decode()).trim();
}

class TimeoutError extends Error {}

function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new TimeoutError(message)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

const breathe = (): Promise<void> =>
  typeof setImmediate === "function"
    ? new Promise((resolve) => setImmediate(resolve))
    : Promise.resolve();

const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const code = (error as { code?: string }).code;
  if (code === "ECONNREFUSED") return "connection refused (is clamd running, with TCPSocket set?)";
  if (code === "ENOTFOUND") return "no such host";
  return code && !error.message.includes(code) ? `${error.message} (${code})` : error.message;
}
