/**
 * `npm run bench [-- --quick] [--only downloads,webhooks,licenses,streaming,stamping,uploads,startup] [--database sqlite|postgres]
 * [--profile]`: every
 * benchmark against its baseline, measured in the same run on this machine. Prints a table and
 * writes bench/results/latest.json. `--quick` is the CI smoke check: small sizes, short runs,
 * no goals enforced.
 *
 * For digging into a figure: BENCH_KEEP=1 keeps the run's folder (the server's logs, the SQLite
 * files), BENCH_NODE_FLAGS="--trace-gc" starts the server with those Node flags, and
 * BENCH_PG_OPTIONS=" -c log_statement=all" adds settings to the Postgres sessions.
 */
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { startS3Server } from "../test/support/s3-server.ts";
import { downloadBenchmarks } from "./downloads.ts";
import { licenseBenchmarks } from "./licenses.ts";
import { startLoadGenerator } from "./processes.ts";
import { met, type Row, type Skipped, table, writeResults } from "./report.ts";
import { type Dialect, type Options, postgresUnavailable } from "./setup.ts";
import { stampingBenchmark } from "./stamping.ts";
import { describeStartup, type StartupFigures, startupBenchmark } from "./startup.ts";
import { streamingBenchmark } from "./streaming.ts";
import { uploadBenchmark } from "./uploads.ts";
import { webhookBenchmarks } from "./webhooks.ts";

const args = process.argv.slice(2);
const flag = (name: string) => args.includes(`--${name}`);
const value = (name: string) => {
  const at = args.indexOf(`--${name}`);
  return at >= 0 ? args[at + 1] : undefined;
};
const dir = mkdtempSync(join(tmpdir(), "tollgate-bench-"));
const opts: Options = {
  quick: flag("quick"),
  dir,
  postgresUrl: process.env.TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test",
  only: (value("only") ?? "").split(",").filter(Boolean),
  ...(flag("profile") ? { profileDir: resolve("bench/results/profiles") } : {}),
};
if (opts.profileDir) mkdirSync(opts.profileDir, { recursive: true });
const wanted = (name: string) => !opts.only.length || opts.only.some((o) => name.includes(o));

const started = Date.now();
const loadAverageAtStart = loadavg()[0] ?? 0;
const rows: Row[] = [];
const skipped: Skipped[] = [];
const load = startLoadGenerator();
const s3 = await startS3Server();
const postgresProblem = await postgresUnavailable(opts.postgresUrl);
const dialects = (["sqlite", "postgres"] as Dialect[]).filter(
  (d) => !value("database") || value("database") === d,
);

const step = async (name: string, database: Dialect, run: () => Promise<Row[]>) => {
  if (!wanted(name)) return;
  if (database === "postgres" && postgresProblem) {
    skipped.push({ benchmark: name, database, reason: postgresProblem });
    console.error(`skipped ${name} on postgres: ${postgresProblem}`);
    return;
  }
  const t0 = Date.now();
  const got = await run();
  rows.push(...got);
  console.error(`${name} on ${database}: done in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
};

let startup: StartupFigures | undefined;
try {
  if (wanted("startup")) {
    startup = await startupBenchmark(opts);
    console.error(describeStartup(startup));
  }
  for (const database of dialects) {
    for (const storage of [{ kind: "local" as const }, { kind: "s3" as const, server: s3 }]) {
      await step(`downloads-${storage.kind}`, database, () =>
        downloadBenchmarks(database, storage, load, opts),
      );
    }
    await step("webhooks", database, () => webhookBenchmarks(database, load, opts));
    await step("licenses", database, () => licenseBenchmarks(database, load, opts));
  }
  await step("streaming", "sqlite", async () => [await streamingBenchmark(load, opts)]);
  // Pages a second and peak memory of a stamped 200-page PDF (decision 0026).
  await step("stamping", "sqlite", async () => [await stampingBenchmark(opts)]);
  // Peak memory of `tollgate asset add` of a 10 GiB sparse file over a 64 MiB one's (issue 19).
  await step("uploads", "sqlite", async () => {
    const got = await uploadBenchmark(opts);
    if (!("reason" in got)) return [got];
    skipped.push(got);
    console.error(`skipped uploads: ${got.reason}`);
    return [];
  });
} finally {
  await load.stop();
  await s3.close();
  if (process.env.BENCH_KEEP) console.log(`kept ${dir}`);
  else rmSync(dir, { recursive: true, force: true });
}

const seconds = (Date.now() - started) / 1000;
console.log(`\n${table(rows)}\n`);
if (startup) console.log(describeStartup(startup));
for (const s of skipped) console.log(`skipped: ${s.benchmark} on ${s.database}: ${s.reason}`);
const file = resolve("bench/results/latest.json");
writeResults(
  file,
  {
    quick: opts.quick,
    startedAt: new Date(started).toISOString(),
    seconds,
    loadAverageAtStart,
    ...(startup ? { startup } : {}),
  },
  rows,
  skipped,
);
console.log(
  `${rows.length} figures in ${seconds.toFixed(0)} s (load average ${loadAverageAtStart.toFixed(1)} at the start, ${loadavg()[0]?.toFixed(1)} at the end), written to ${file}`,
);
const missed = rows.filter((r) => !met(r));
if (missed.length && !opts.quick) {
  console.log(
    `goals not met: ${missed.map((r) => `${r.benchmark} (${r.database}, ${r.storage})`).join("; ")}`,
  );
  process.exitCode = 1;
}
