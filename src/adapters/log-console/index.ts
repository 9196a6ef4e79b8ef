import type { Logger } from "../../core/ports.ts";

/** Where the logger's lines go: standard output, and standard error for errors. */
export interface LineSink {
  out(line: string): void;
  err(line: string): void;
}

const consoleSink: LineSink = { out: (line) => console.log(line), err: (l) => console.error(l) };

/** One readable line per event: time, level, message, key=value fields; multi-line text below. */
export function consoleLogger(opts: { quiet?: boolean; sink?: LineSink } = {}): Logger {
  const sink = opts.sink ?? consoleSink;
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
    (level === "error" ? sink.err : sink.out)([line, ...blocks].join("\n"));
  };
  return {
    info: (m, f) => write("info", m, f),
    warn: (m, f) => write("warn", m, f),
    error: (m, f) => write("error", m, f),
  };
}

export const silentLogger: Logger = { info() {}, warn() {}, error() {} };
