import { consoleLogger } from "../adapters/log-console/index.ts";
import { type Config, ConfigError, parseConfig } from "../config.ts";
import { isAppError } from "../core/errors.ts";
import { buildNodeRuntime, type NodeRuntime } from "../runtime/node.ts";

export function loadConfig(): Config {
  return parseConfig(process.env);
}

/** Runs one CLI action with the runtime built from the environment, then closes it. */
export async function withRuntime(
  fn: (runtime: NodeRuntime) => Promise<void>,
  opts: { migrate?: boolean } = {},
): Promise<void> {
  const runtime = await buildNodeRuntime(loadConfig(), {
    log: consoleLogger({ quiet: true }),
    ...opts,
  });
  try {
    await fn(runtime);
  } finally {
    await runtime.close();
  }
}

/** Prints what went wrong in words and sets the exit code: 2 for configuration, 1 otherwise. */
export function reportFailure(error: unknown): void {
  if (error instanceof ConfigError) {
    console.error(error.message);
    process.exitCode = 2;
  } else if (isAppError(error)) {
    console.error(`Error: ${error.message}`);
    process.exitCode = 1;
  } else {
    console.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
    process.exitCode = 1;
  }
}
