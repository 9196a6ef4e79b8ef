import { execFile } from "node:child_process";
import {
  cpSync,
  mkdtempSync,
  readFileSync,
  statSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

const ROOT = resolve(import.meta.dirname, "../..");
const run = promisify(execFile);

/** A copy of the checkout as a fresh clone has it (no dist/), sharing node_modules. */
function freshClone(): string {
  const dir = mkdtempSync(join(tmpdir(), "tollgate-clone-"));
  for (const part of ["bin", "scripts", "src", "package.json", "tsconfig.json"])
    cpSync(join(ROOT, part), join(dir, part), { recursive: true });
  symlinkSync(join(ROOT, "node_modules"), join(dir, "node_modules"));
  return dir;
}

const tollgate = (dir: string, ...args: string[]) =>
  run(process.execPath, [join(dir, "bin/tollgate.js"), ...args], { cwd: tmpdir() });

/** bin/tollgate.js, what `npm start` and `npx tollgate` run (decision 0013). */
describe("the tollgate launcher", () => {
  it("builds the bundle on a fresh clone's first run, reuses it, and rebuilds after a change", async () => {
    const dir = freshClone();
    const bundle = join(dir, "dist/node/tollgate.js");
    expect((await tollgate(dir, "--help")).stdout).toContain("Usage: tollgate");
    const built = statSync(bundle).mtimeMs;
    await tollgate(dir, "--help");
    expect(statSync(bundle).mtimeMs).toBe(built);
    // A changed source, even one whose time goes backwards (a restored file), is a new build.
    const file = join(dir, "src/cli/main.ts");
    writeFileSync(file, `${readFileSync(file, "utf8")}\n// changed\n`);
    utimesSync(file, new Date(2000, 0, 1), new Date(2000, 0, 1));
    await tollgate(dir, "--help");
    expect(statSync(bundle).mtimeMs).not.toBe(built);
  });

  it("runs the TypeScript through tsx where the bundle cannot be built", async () => {
    const dir = freshClone();
    // dist is a file: nothing can be written under it.
    writeFileSync(join(dir, "dist"), "");
    expect((await tollgate(dir, "--help")).stdout).toContain("Usage: tollgate");
  });
});
