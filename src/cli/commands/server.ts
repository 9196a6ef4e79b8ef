import { parseConfig } from "../../config.ts";
import { migrateToLatest } from "../../db/migrate.ts";
import { startServer } from "../../runtime/serve.ts";
import { withRuntime } from "../run.ts";

export async function serve(opts: { demo?: boolean; host?: string }) {
  // The environment only: a running shop's serve.json is for the other commands.
  await startServer(parseConfig(process.env), {
    demo: Boolean(opts.demo),
    ...(opts.host ? { host: opts.host } : {}),
  });
}

export function migrate() {
  return withRuntime(
    async (rt) => {
      const applied = await migrateToLatest(rt.deps.db, rt.config.database.dialect);
      console.log(
        applied.length ? `Applied: ${applied.join(", ")}` : "The database is up to date.",
      );
    },
    { migrate: false },
  );
}
