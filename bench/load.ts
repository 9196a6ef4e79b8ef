/**
 * The load generator, in its own process so it never shares the server's event loop: runs one
 * job per IPC message (autocannon for requests, a plain HTTP client for a big download) and
 * answers with the figures.
 */
import { readFileSync } from "node:fs";
import { get } from "node:http";
import autocannon from "autocannon";

export type LoadJob =
  | {
      kind: "requests";
      url: string;
      headers?: Record<string, string>;
      /** POST with this body (JSON); GET without. */
      body?: string;
      connections: number;
      seconds: number;
    }
  | {
      kind: "events";
      url: string;
      /** JSON lines of { body, signature }: each is sent once. */
      file: string;
      connections: number;
    }
  | { kind: "download"; url: string; headers?: Record<string, string> };

export interface LoadResult {
  requests: number;
  seconds: number;
  perSecond: number;
  p50Ms: number;
  p99Ms: number;
  statuses: Record<string, number>;
  errors: number;
}

export interface DownloadResult {
  status: number;
  bytes: number;
  seconds: number;
}

/**
 * Runs autocannon and times it from start to the last response: its own start and finish move in
 * whole-second ticks, too coarse for a fixed number of events.
 */
function cannon(opts: autocannon.Options): Promise<LoadResult> {
  return new Promise((done, fail) => {
    const started = performance.now();
    let last = started;
    const instance = autocannon(opts, (error, result) =>
      error ? fail(error) : done(summarize(result, (last - started) / 1000)),
    );
    instance.on("response", () => {
      last = performance.now();
    });
  });
}

async function requests(job: Extract<LoadJob, { kind: "requests" }>): Promise<LoadResult> {
  return cannon({
    url: job.url,
    headers: job.headers ?? {},
    ...(job.body === undefined ? {} : { method: "POST" as const, body: job.body }),
    connections: job.connections,
    duration: job.seconds,
  });
}

async function events(job: Extract<LoadJob, { kind: "events" }>): Promise<LoadResult> {
  const signed = readFileSync(job.file, "utf8")
    .split("\n")
    .filter(Boolean)
    .map((line) => JSON.parse(line) as { body: string; signature: string });
  let next = 0;
  return cannon({
    url: job.url,
    method: "POST",
    connections: Math.min(job.connections, signed.length),
    amount: signed.length,
    requests: [
      {
        setupRequest(request) {
          const event = signed[next++ % signed.length] as { body: string; signature: string };
          return {
            ...request,
            method: "POST",
            body: event.body,
            headers: {
              "content-type": "application/json",
              "stripe-signature": event.signature,
            },
          };
        },
      },
    ],
  });
}

function summarize(result: autocannon.Result, seconds: number): LoadResult {
  const statuses: Record<string, number> = {};
  for (const [code, stat] of Object.entries(result.statusCodeStats ?? {}))
    statuses[code] = stat.count ?? 0;
  const answered = Object.values(statuses).reduce((a, b) => a + b, 0);
  return {
    requests: answered,
    seconds,
    perSecond: answered / seconds,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    statuses,
    errors: result.errors,
  };
}

/** Reads the whole body and throws it away, counting bytes. */
function download(job: Extract<LoadJob, { kind: "download" }>): Promise<DownloadResult> {
  return new Promise((done, fail) => {
    const started = performance.now();
    get(job.url, { headers: job.headers ?? {} }, (res) => {
      let bytes = 0;
      res.on("data", (chunk: Buffer) => {
        bytes += chunk.length;
      });
      res.on("end", () =>
        done({ status: res.statusCode ?? 0, bytes, seconds: (performance.now() - started) / 1000 }),
      );
      res.on("error", fail);
    }).on("error", fail);
  });
}

process.on("message", async (job: LoadJob) => {
  try {
    const result =
      job.kind === "requests"
        ? await requests(job)
        : job.kind === "events"
          ? await events(job)
          : await download(job);
    process.send?.({ ok: true, result });
  } catch (error) {
    process.send?.({ ok: false, error: String(error) });
  }
});
process.on("disconnect", () => process.exit(0));
