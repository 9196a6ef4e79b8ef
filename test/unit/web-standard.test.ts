import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { describe, expect, it } from "vitest";

const SRC = resolve(import.meta.dirname, "../../src");
const NODE_ONLY =
  /^(node:|better-sqlite3$|pg$|nodemailer$|fs$|path$|crypto$|http$|stream$|@hono\/node-server)/;

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : /\.tsx?$/.test(name) ? [path] : [];
  });
}

function importsOf(file: string): string[] {
  const text = readFileSync(file, "utf8");
  return [...text.matchAll(/^\s*(?:import|export)\s+(?!type\b)[^;]*?from\s+"([^"]+)"/gm)].map(
    (m) => m[1] as string,
  );
}

/**
 * The core and the HTTP layer run unchanged on Workers (DESIGN section 2): nothing they import,
 * directly or through our own modules, may be Node-only. Type-only imports do not count.
 */
describe("the core and HTTP layer use Web standards only", () => {
  const roots = [
    ...files(join(SRC, "core")),
    ...files(join(SRC, "http")),
    ...files(join(SRC, "pages")),
  ];
  it.each(roots.map((f) => [f.slice(SRC.length + 1), f]))(
    "%s imports nothing Node-only",
    (_name, root) => {
      const seen = new Set<string>();
      const offences: string[] = [];
      const visit = (file: string, chain: string[]) => {
        if (seen.has(file)) return;
        seen.add(file);
        for (const spec of importsOf(file)) {
          if (spec.startsWith(".")) visit(resolve(dirname(file), spec), [...chain, spec]);
          else if (NODE_ONLY.test(spec)) offences.push([...chain, spec].join(" -> "));
        }
      };
      visit(root as string, []);
      expect(offences).toEqual([]);
    },
  );
});
