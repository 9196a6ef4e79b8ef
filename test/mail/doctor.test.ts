import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cli } from "../support/cli.ts";
import { freePort } from "../support/server.ts";
import { startSmtpServer, type TestSmtpServer } from "./smtp-server.ts";

const PASSWORD = "relay-secret-42";
const KEY = "re_doctor_0123456789";

describe("tollgate doctor checks the mail settings", () => {
  let smtp: TestSmtpServer;
  const doctor = (env: Record<string, string>) =>
    cli(["doctor"], {
      DATABASE_URL: `sqlite:${join(mkdtempSync(join(tmpdir(), "tollgate-doctor-")), "t.db")}`,
      MAIL_FROM: "Shop <shop@example.com>",
      ...env,
    });
  beforeAll(async () => {
    smtp = await startSmtpServer({ users: { shop: PASSWORD } });
  });
  afterAll(() => smtp.close());

  it("says whether the SMTP server answers and takes the login, never showing the password", async () => {
    const refusedPort = await freePort();
    const [good, wrong, down] = await Promise.all([
      doctor({ MAIL_URL: smtp.url("shop", PASSWORD) }),
      doctor({ MAIL_URL: smtp.url("shop", "not-it") }),
      doctor({ MAIL_URL: `smtp://shop:${PASSWORD}@127.0.0.1:${refusedPort}` }),
    ]);
    expect(good.stdout).toContain(
      `✓ mail      SMTP server 127.0.0.1:${smtp.port} answers and accepts the login for "shop"; mail from Shop <shop@example.com>`,
    );
    expect(wrong.code).toBe(1);
    expect(wrong.stdout).toContain(
      `✗ mail      MAIL_URL: SMTP server 127.0.0.1:${smtp.port} refused the login for user "shop"`,
    );
    expect(down.code).toBe(1);
    expect(down.stdout).toContain(
      `✗ mail      MAIL_URL: SMTP server 127.0.0.1:${refusedPort} refused the connection`,
    );
    for (const run of [good, wrong, down]) expect(run.stdout + run.stderr).not.toContain(PASSWORD);
    // doctor connects and logs in, but sends nothing
    expect(smtp.received).toHaveLength(0);
  });

  it("says an HTTP mail API is configured, without calling it or showing the key", async () => {
    const run = await doctor({ MAIL_URL: "https://api.resend.com/emails", MAIL_API_KEY: KEY });
    expect(run.stdout).toContain(
      "✓ mail      mail API api.resend.com/emails is configured with MAIL_API_KEY, from Shop <shop@example.com> (not contacted: doctor sends no mail)",
    );
    expect(run.stdout + run.stderr).not.toContain(KEY);
  });

  it("names a missing API key as a configuration problem", async () => {
    const run = await doctor({ MAIL_URL: "https://api.resend.com/emails" });
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/✗ config\s+MAIL_API_KEY is required with an HTTP mail API/);
  });
});
