import { silentLogger } from "../../adapters/log-console/index.ts";
import { type Config, ConfigError, parseConfig } from "../../config.ts";
import type { HealthStatus } from "../../pages/admin/diagnosis.ts";
import { type Built, diagnose } from "../../runtime/diagnose.ts";
import { nodeChecks } from "../../runtime/diagnoseNode.ts";
import { buildNodeRuntime, type NodeRuntime } from "../../runtime/node.ts";

const MARK: Record<HealthStatus, string> = { ok: "✓", warn: "!", fail: "✗" };

const line = (status: HealthStatus, area: string, text: string) =>
  console.log(`${MARK[status]} ${area.padEnd(9)} ${text}`);

/** Checks what a deployment needs and says in words what is wrong. Exit code 1 on any failure. */
export async function doctor() {
  let config: Config;
  try {
    config = parseConfig(process.env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    for (const p of error.problems) line("fail", "config", `${p.variable} ${p.message}`);
    process.exitCode = 1;
    return;
  }

  let runtime: NodeRuntime | null = null;
  let built: Built;
  try {
    runtime = await buildNodeRuntime(config, { log: silentLogger, migrate: false });
    built = runtime.deps;
  } catch (error) {
    built = { error };
  }
  const results = await diagnose(config, built, nodeChecks).finally(() => runtime?.close());
  for (const r of results) line(r.status, r.area, r.text);

  const failures = results.filter((r) => r.status === "fail").length;
  console.log(failures ? `\n${failures} problem(s) found.` : "\nNo problems found.");
  if (failures) process.exitCode = 1;
}
