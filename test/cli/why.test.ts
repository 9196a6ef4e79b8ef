import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cli } from "../support/cli.ts";

/**
 * `tollgate why` as a seller runs it, and what the CLI's own changes say in the access history:
 * the real CLI in its own process against a SQLite shop in a temp folder.
 */
describe("tollgate why", () => {
  let dir: string;
  let env: Record<string, string>;
  const run = (args: string[]) => cli(args, env);
  const accessEvents = () => {
    const db = new Database(join(dir, "t.db"), { readonly: true });
    try {
      return db.prepare("select change, by, reason from access_events order by id").all();
    } finally {
      db.close();
    }
  };
  /** Today as the sentence writes it ("6 Dec 2026"; the shop's zone is UTC). */
  const today = () => {
    const d = new Date();
    return `${d.getUTCDate()} ${d.toLocaleString("en-US", { month: "short", timeZone: "UTC" })} ${d.getUTCFullYear()}`;
  };

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "tollgate-why-cli-"));
    env = {
      DATABASE_URL: `sqlite:${join(dir, "t.db")}`,
      STORAGE_URL: `file:${join(dir, "files")}`,
      PUBLIC_URL: "http://localhost:9999",
    };
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("says how to use it, with examples", async () => {
    const help = await run(["why", "--help"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("Usage: tollgate why [options] <email> <slug>");
    expect(help.stdout).toContain("--json");
    expect(help.stdout).toContain("$ tollgate why buyer@example.com my-kit");
    expect((await run(["--help"])).stdout).toMatch(/^\s+why\b/m);
  });

  it("a grant and a revoke from the CLI are the CLI's; why says so in a sentence and a table, or as JSON", async () => {
    expect(
      (await run(["product", "add", "--slug", "icon-kit", "--name", "Icon Kit", "--price", "900"]))
        .code,
    ).toBe(0);
    const never = await run(["why", "ana@example.com", "icon-kit"]);
    expect(never.code).toBe(0);
    expect(never.stdout.trim()).toBe("ana@example.com never had access to Icon Kit.");

    expect((await run(["grant", "Ana@Example.com", "icon-kit"])).code).toBe(0);
    expect(accessEvents()).toEqual([
      { change: "granted", by: "cli", reason: "given without payment" },
    ]);
    const granted = await run(["why", "ANA@example.com", "icon-kit"]);
    expect(granted.stderr).toBe("");
    const lines = granted.stdout.trim().split("\n");
    expect(lines[0]).toBe(
      `ana@example.com has access to Icon Kit: given on ${today()} by the CLI.`,
    );
    expect(lines[2]).toMatch(/^WHEN\s+WHAT\s+WHO\s+WHY$/);
    expect(lines[3]).toMatch(
      /^\d{4}-\d\d-\d\d \d\d:\d\d UTC\s+granted\s+the CLI\s+given without payment$/,
    );

    const revoked = await run(["revoke", "ana@example.com", "icon-kit", "--reason", "chargeback"]);
    expect(revoked.code).toBe(0);
    const json = await run(["why", "ana@example.com", "icon-kit", "--json"]);
    expect(json.code).toBe(0);
    const body = JSON.parse(json.stdout);
    expect(body).toMatchObject({
      email: "ana@example.com",
      product: { slug: "icon-kit", name: "Icon Kit" },
      hasAccess: false,
      sentence: `ana@example.com has no access to Icon Kit: revoked on ${today()} by the CLI ("chargeback").`,
    });
    expect(
      body.history.map((e: { change: string; by: string; reason: string }) => [
        e.change,
        e.by,
        e.reason,
      ]),
    ).toEqual([
      ["revoked", "cli", "chargeback"],
      ["granted", "cli", "given without payment"],
    ]);
  });

  it("refuses a malformed email and an unknown product in words, changing nothing", async () => {
    const before = accessEvents();
    const [badEmail, unknown] = await Promise.all([
      run(["why", "not-an-email", "icon-kit"]),
      run(["why", "ana@example.com", "no-such-kit"]),
    ]);
    expect(badEmail.code).toBe(1);
    expect(badEmail.stderr).toContain("Error: email: must be an email address");
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/^Error: .*product/im);
    expect(accessEvents()).toEqual(before);
  });
});
