/**
 * The server under test, in its own process: the real Tollgate app (buildNodeRuntime, config from
 * the environment) served by @hono/node-server, with the baselines mounted beside it under
 * /__bench/. Tells its parent the port over IPC once it listens, and profiles on request.
 */
import { writeFileSync } from "node:fs";
import { createServer } from "node:http";
import { Session } from "node:inspector/promises";
import { getRequestListener } from "@hono/node-server";
import { bufferedStdio } from "../src/adapters/log-console/bufferedStdio.ts";
import { consoleLogger } from "../src/adapters/log-console/index.ts";
import { parseConfig } from "../src/config.ts";
import { buildNodeRuntime } from "../src/runtime/node.ts";
import { baselineApp, pipeFile } from "./baselines.ts";

const config = parseConfig(process.env);
const runtime = await buildNodeRuntime(config, { log: consoleLogger({ sink: bufferedStdio() }) });
const tollgate = getRequestListener(runtime.app.fetch);
const baseline = getRequestListener((await baselineApp(runtime.deps.db)).fetch);
const storageRoot = config.storage.kind === "local" ? config.storage.root : null;

const server = createServer((req, res) => {
  const url = req.url ?? "/";
  if (!url.startsWith("/__bench/")) return tollgate(req, res);
  if (url.startsWith("/__bench/pipe/") && storageRoot) return pipeFile(storageRoot, url, res);
  return baseline(req, res);
});
server.keepAliveTimeout = 60_000;
server.listen(0, "127.0.0.1", () => {
  const address = server.address();
  process.send?.({ port: typeof address === "object" && address ? address.port : 0 });
});

// `--profile`: the parent brackets each measured run, so setup stays out of the profile.
const inspector = new Session();
inspector.connect();
process.on("message", async (m: { profile?: "start" | "stop"; file?: string }) => {
  if (m.profile === "start") {
    await inspector.post("Profiler.enable");
    await inspector.post("Profiler.start");
  } else if (m.profile === "stop" && m.file) {
    const { profile } = await inspector.post("Profiler.stop");
    writeFileSync(m.file, JSON.stringify(profile));
  }
  process.send?.({ profiled: m.profile });
});

const stop = () => server.close(() => void runtime.close().then(() => process.exit(0)));
process.on("disconnect", stop);
process.on("SIGTERM", stop);
