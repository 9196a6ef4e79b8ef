import { type Config, type Env, parseConfig } from "../config.ts";
import { findListening, type Listening } from "../runtime/listening.ts";
import { dataDir } from "../runtime/secrets.ts";

export const given = (value: string | undefined) => Boolean(value?.trim());

/**
 * The config from the environment. Where PORT is not exported, the port (and, unless PUBLIC_URL
 * is, the address) come from the `tollgate serve` running on this data folder, if one is: links
 * then point at the shop that is actually up. `running` is that shop, or null.
 */
export function locateShop(env: Env = process.env): {
  config: Config;
  running: Listening | null;
} {
  const config = parseConfig(env);
  const dir = given(env.PORT) ? null : dataDir(config);
  const running = dir ? findListening(dir) : null;
  if (!running) return { config, running };
  return {
    config: {
      ...config,
      port: running.port,
      publicUrl: given(env.PUBLIC_URL) ? config.publicUrl : running.publicUrl,
    },
    running,
  };
}
