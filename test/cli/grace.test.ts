import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cli } from "../support/cli.ts";

/** `tollgate product update`'s grace options (decision 0020), as a seller runs them. */
describe("tollgate product update: grace policy", () => {
  let dir: string;
  let env: Record<string, string>;
  const run = (args: string[]) => cli(args, env);
  const grace = () => {
    const db = new Database(join(dir, "t.db"), { readonly: true });
    try {
      return db
        .prepare(
          "select grace_past_due_days, grace_refund_revokes, grace_dispute_suspends from products",
        )
        .all();
    } finally {
      db.close();
    }
  };

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "tollgate-grace-cli-"));
    env = {
      DATABASE_URL: `sqlite:${join(dir, "t.db")}`,
      STORAGE_URL: `file:${join(dir, "files")}`,
      PUBLIC_URL: "http://localhost:9999",
    };
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("says how, with an example", async () => {
    const help = await run(["product", "update", "--help"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("--past-due-days <n>");
    expect(help.stdout).toContain("--refund <revokes|keeps|shop>");
    expect(help.stdout).toContain("--dispute <suspends|keeps>");
    expect(help.stdout).toContain(
      "$ tollgate product update my-club --past-due-days 7 --refund keeps --dispute keeps",
    );
  });

  it("sets each setting, says the policy, and refuses what is not one without changing it", async () => {
    const added = await run([
      ...["product", "add", "--slug", "club", "--name", "Club", "--price", "900"],
      ...["--kind", "subscription", "--interval", "month"],
    ]);
    expect(added.code, added.stderr).toBe(0);
    expect(grace()).toEqual([
      { grace_past_due_days: 0, grace_refund_revokes: null, grace_dispute_suspends: 1 },
    ]);

    const set = await run([
      ...["product", "update", "club", "--past-due-days", "7"],
      ...["--refund", "keeps", "--dispute", "keeps"],
    ]);
    expect(set.code, set.stderr).toBe(0);
    expect(set.stdout).toContain(
      "Grace: 7 days past due; a refund keeps access; a dispute keeps it.",
    );
    const shop = await run(["product", "update", "club", "--refund", "shop"]);
    expect(shop.stdout, shop.stderr).toContain("a refund revokes access (shop setting)");

    const [negative, tooMany, word, refund] = await Promise.all([
      run(["product", "update", "club", "--past-due-days", "-1"]),
      run(["product", "update", "club", "--past-due-days", "61"]),
      run(["product", "update", "club", "--past-due-days", "week"]),
      run(["product", "update", "club", "--refund", "maybe"]),
    ]);
    for (const refused of [negative, tooMany, word, refund]) expect(refused.code).toBe(1);
    expect(word.stderr).toContain("use a whole number of days from 0 to 60");
    expect(tooMany.stderr).toMatch(/pastDueDays.*60/);
    expect(refund.stderr).toContain('use "revokes", "keeps" or "shop"');
    expect(grace()).toEqual([
      { grace_past_due_days: 7, grace_refund_revokes: null, grace_dispute_suspends: 0 },
    ]);
  });
});
