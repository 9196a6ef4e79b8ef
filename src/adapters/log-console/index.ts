import type { Logger } from "../../core/ports.ts";

/** One readable line per event: time, level, message, key=value fields; multi-line text below. */
export function consoleLogger(opts: { quiet?: boolean } = {}): Logger {
  const write = (level: string, message: string, fields: Record<string, unknown> = {}) => {
    if (opts.quiet && level === "info") return;
    const inline: string[] = [];
    const blocks: string[] = [];
    for (const [key, value] of Object.entries(fields)) {
      if (typeof value === "string" && value.includes("\n")) blocks.push(value.trimEnd());
      else
        inline.push(
          `${key}=${typeof value === "string" && !/\s/.test(value) ? value : JSON.stringify(value)}`,
        );
    }
    const line = [new Date().toISOString(), level.padEnd(5), message, ...inline].join(" ");
    (level === "error" ? console.error : console.log)([line, ...blocks].join("\n"));
  };
  return {
    info: (m, f) => write("info", m, f),
    warn: (m, f) => write("warn", m, f),
    error: (m, f) => write("error", m, f),
  };
}

export const silentLogger: Logger = { info() {}, warn() {}, error() {} };
