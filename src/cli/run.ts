import { consoleLogger } from "../adapters/log-console/index.ts";
import { buildNodeRuntime, type NodeRuntime } from "../runtime/node.ts";
import { dataDir } from "../runtime/secrets.ts";
import { given, locateShop } from "./shop.ts";

/** Runs one CLI action with the runtime built from the environment, then closes it. */
export async function withRuntime(
  fn: (runtime: NodeRuntime) => Promise<void>,
  opts: { migrate?: boolean; printsLinks?: boolean } = {},
): Promise<void> {
  const { config, running } = locateShop();
  if (opts.printsLinks && !running && !given(process.env.PORT) && !given(process.env.PUBLIC_URL)) {
    const dir = dataDir(config);
    console.error(
      `Note: links use ${config.publicUrl}: ${dir ? `no \`tollgate serve\` is running on ${dir}` : "the shop's address is not known"}. Set PUBLIC_URL (or PORT) if the shop runs elsewhere.`,
    );
  }
  const runtime = await buildNodeRuntime(config, {
    log: consoleLogger({ quiet: true }),
    ...(opts.migrate === false ? { migrate: false } : {}),
  });
  try {
    // What a command changes, the access history says the CLI did.
    await fn({ ...runtime, systemCtx: { ...runtime.systemCtx, cause: "cli" } });
  } finally {
    await runtime.close();
  }
}
