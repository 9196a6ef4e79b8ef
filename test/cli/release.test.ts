import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cli } from "../support/cli.ts";

/** `tollgate release add|list` as a seller runs it: the real CLI against a SQLite shop. */
describe("tollgate release", () => {
  let dir: string;
  let env: Record<string, string>;
  const run = (args: string[]) => cli(args, env);
  function query<T>(sql: string, ...params: unknown[]): T[] {
    const db = new Database(join(dir, "t.db"), { readonly: true });
    try {
      return db.prepare(sql).all(...params) as T[];
    } finally {
      db.close();
    }
  }

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "tollgate-release-cli-"));
    env = {
      DATABASE_URL: `sqlite:${join(dir, "t.db")}`,
      STORAGE_URL: `file:${join(dir, "files")}`,
      PUBLIC_URL: "http://localhost:9999",
    };
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("--help shows how, with examples", async () => {
    const help = await run(["release", "add", "--help"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("Usage: tollgate release add [options] <slug> <version>");
    expect(help.stdout).toContain("--notes-file <file>");
    expect(help.stdout).toContain("--notify");
    expect(help.stdout).toContain("$ tollgate release add my-kit 1.2 --notes-file CHANGES.md");
  });

  it("publishes a release with notes from a file, says what changed, and refuses a version twice", async () => {
    expect(
      (await run(["product", "add", "--slug", "cli-kit", "--name", "CLI Kit", "--price", "900"]))
        .code,
    ).toBe(0);
    const file = join(dir, "kit.txt");
    writeFileSync(file, "version one");
    expect((await run(["asset", "add", "cli-kit", file])).code).toBe(0);
    const notes = join(dir, "CHANGES.md");
    writeFileSync(notes, "## 1.0\n\n- First release.\n");

    const first = await run(["release", "add", "cli-kit", "1.0", "--notes-file", notes]);
    expect(first.stderr).toBe("");
    expect(first.code).toBe(0);
    expect(first.stdout).toContain("Published cli-kit 1.0: 1 file(s).");
    expect(first.stdout).toContain("  + kit.txt");

    writeFileSync(file, "version two");
    expect((await run(["asset", "add", "cli-kit", file])).code).toBe(0);
    const second = await run(["release", "add", "cli-kit", "1.1", "--notes", "Better."]);
    expect(second.code).toBe(0);
    expect(second.stdout).toContain("1 changed");
    expect(second.stdout).toContain("  ~ kit.txt");

    const rows = query<{ version: string; notes: string }>(
      "select version, notes from releases order by seq",
    );
    expect(rows).toEqual([
      { version: "1.0", notes: "## 1.0\n\n- First release.\n" },
      { version: "1.1", notes: "Better." },
    ]);

    const again = await run(["release", "add", "cli-kit", "1.1"]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain("already has a release 1.1");
    const missing = await run([
      "release",
      "add",
      "cli-kit",
      "1.2",
      "--notes-file",
      join(dir, "nope.md"),
    ]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("Cannot read the notes file");
    expect(query("select id from releases")).toHaveLength(2);

    const list = await run(["release", "list", "cli-kit"]);
    expect(list.code).toBe(0);
    expect(list.stdout.split("\n")[0]).toMatch(/^1\.1\t/);
  });
});
