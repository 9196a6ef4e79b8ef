import { createServer, type Server, type Socket } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { clamdScanner, verdictOf } from "../../src/adapters/scanner-clamd/index.ts";
import { nodeClamdConnect } from "../../src/adapters/scanner-clamd/node.ts";

/**
 * The INSTREAM protocol against a stand-in clamd that checks the framing byte by byte (the real
 * clamd is in test/e2e/malware-scanning.test.ts): the stand-in counts what it is sent and answers
 * as clamd would, so a large file can be sent in a second and memory watched.
 */
interface Seen {
  command: string;
  bytes: number;
  chunks: number;
  largestChunk: number;
}

function standIn(
  answer: (seen: Seen) => string,
): Promise<{ server: Server; port: number; seen: Seen[] }> {
  const seen: Seen[] = [];
  const server = createServer((socket: Socket) => {
    const state: Seen = { command: "", bytes: 0, chunks: 0, largestChunk: 0 };
    seen.push(state);
    let buffer: Buffer = Buffer.alloc(0);
    let need: number | null = null; // bytes left of the current chunk; null: a length comes next
    socket.on("data", (data: Buffer) => {
      buffer = buffer.length ? Buffer.concat([buffer, data]) : data;
      for (;;) {
        if (!state.command) {
          const end = buffer.indexOf(0);
          if (end === -1) return;
          state.command = buffer.subarray(0, end).toString();
          buffer = buffer.subarray(end + 1);
          if (state.command !== "zINSTREAM") {
            socket.end(`${answer(state)}\0`);
            return;
          }
          continue;
        }
        if (need === null) {
          if (buffer.length < 4) return;
          const length = buffer.readUInt32BE(0);
          buffer = buffer.subarray(4);
          if (length === 0) {
            socket.end(`${answer(state)}\0`);
            return;
          }
          state.chunks++;
          state.largestChunk = Math.max(state.largestChunk, length);
          need = length;
          continue;
        }
        const take = Math.min(need, buffer.length);
        if (take === 0) return;
        state.bytes += take;
        need -= take;
        buffer = buffer.subarray(take);
        if (need === 0) need = null;
      }
    });
    socket.on("error", () => {});
  });
  return new Promise((resolve) =>
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      resolve({ server, port: typeof address === "object" && address ? address.port : 0, seen });
    }),
  );
}

/** `total` bytes in 1 MiB chunks, each made when asked for (nothing is held). */
function generated(total: number): ReadableStream<Uint8Array> {
  let sent = 0;
  return new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        if (sent >= total) return controller.close();
        const size = Math.min(1024 * 1024, total - sent);
        sent += size;
        controller.enqueue(new Uint8Array(size).fill(sent % 251));
      },
    },
    { highWaterMark: 0 },
  );
}

describe("clamd's INSTREAM over a Node socket", () => {
  let fake: Awaited<ReturnType<typeof standIn>>;
  beforeAll(async () => {
    fake = await standIn((seen) =>
      seen.command === "zPING"
        ? "PONG"
        : seen.command === "zVERSION"
          ? "ClamAV 1.4.6/27000/Sun Dec  6 10:00:00 2026"
          : "stream: OK",
    );
  });
  afterAll(() => new Promise<void>((done) => fake.server.close(() => done())));

  it("sends the file in length-prefixed chunks of at most 64 KiB, in flat memory", async () => {
    const scanner = clamdScanner({ host: "127.0.0.1", port: fake.port, connect: nodeClamdConnect });
    const total = 256 * 1024 * 1024;
    global.gc?.();
    const before = process.memoryUsage();
    let peak = 0;
    const watch = setInterval(() => {
      const now = process.memoryUsage();
      peak = Math.max(peak, now.rss - before.rss);
    }, 20);
    const verdict = await scanner.scan(generated(total)).finally(() => clearInterval(watch));
    expect(verdict).toEqual({ status: "clean" });
    const seen = fake.seen.at(-1);
    expect(seen).toMatchObject({ command: "zINSTREAM", bytes: total });
    expect(seen?.largestChunk).toBeLessThanOrEqual(64 * 1024);
    expect(seen?.chunks).toBe(total / (64 * 1024));
    // A quarter of a gigabyte went through; what the process grew by is a small fraction of it.
    expect(peak).toBeLessThan(96 * 1024 * 1024);
  }, 60_000);

  it("answers PING and VERSION", async () => {
    const scanner = clamdScanner({ host: "127.0.0.1", port: fake.port, connect: nodeClamdConnect });
    await expect(scanner.ping()).resolves.toBeUndefined();
    await expect(scanner.version()).resolves.toMatch(/^ClamAV 1\.4\.6\/27000/);
  });

  it("is a failed scan, never clean, when clamd cannot be reached", async () => {
    const closed = createServer();
    const port = await new Promise<number>((resolve) =>
      closed.listen(0, "127.0.0.1", () => {
        const address = closed.address();
        resolve(typeof address === "object" && address ? address.port : 0);
      }),
    );
    await new Promise<void>((done) => closed.close(() => done()));
    const scanner = clamdScanner({ host: "127.0.0.1", port, connect: nodeClamdConnect });
    const verdict = await scanner.scan(generated(10));
    expect(verdict.status).toBe("failed");
    expect(verdict.status === "failed" && verdict.reason).toMatch(/cannot be reached.*refused/);
    await expect(scanner.ping()).rejects.toThrow(/connection refused/);
  });
});

describe("a clamd that never answers", () => {
  it("is a failed scan after the timeout, and PING fails in words", async () => {
    const sockets = new Set<Socket>();
    const silent = createServer((socket) => {
      sockets.add(socket);
      socket.on("data", () => {});
      socket.on("error", () => {});
    });
    const port = await new Promise<number>((resolve) =>
      silent.listen(0, "127.0.0.1", () => {
        const address = silent.address();
        resolve(typeof address === "object" && address ? address.port : 0);
      }),
    );
    try {
      const scanner = clamdScanner({
        host: "127.0.0.1",
        port,
        connect: nodeClamdConnect,
        commandTimeoutMs: 300,
        scanTimeoutMs: 300,
      });
      const verdict = await scanner.scan(generated(1024));
      expect(verdict).toEqual({
        status: "failed",
        reason: `clamd at 127.0.0.1:${port} did not answer within 0.3 s of the end of the file`,
      });
      await expect(scanner.ping()).rejects.toThrow(/did not answer PING within 0.3 s/);
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((done) => silent.close(() => done()));
    }
  });
});

describe("clamd's replies", () => {
  it("reads OK, FOUND and the size limit; anything else is a failure", () => {
    expect(verdictOf("stream: OK")).toEqual({ status: "clean" });
    expect(verdictOf("stream: Win.Test.EICAR_HDB-1 FOUND")).toEqual({
      status: "infected",
      signature: "Win.Test.EICAR_HDB-1",
    });
    expect(verdictOf("INSTREAM size limit exceeded. ERROR")).toMatchObject({
      status: "failed",
      reason: expect.stringMatching(/StreamMaxLength/),
    });
    expect(verdictOf("stream: Can't allocate memory ERROR").status).toBe("failed");
    expect(verdictOf("").status).toBe("failed");
  });
});
