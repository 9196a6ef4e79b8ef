import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readOutbox } from "../../src/adapters/mail-outbox/index.ts";
import { dialects } from "../support/databases.ts";
import { type Harness, makeHarness, PUBLIC_URL } from "../support/harness.ts";
import { startSmtpServer, type TestSmtpServer } from "./smtp-server.ts";

const PASSWORD = "mail-relay-password";

describe.each(dialects)("the shop sends real mail over SMTP on %s", (dialect) => {
  let smtp: TestSmtpServer;
  let h: Harness;
  beforeAll(async () => {
    smtp = await startSmtpServer({ users: { tollgate: PASSWORD } });
    h = await makeHarness(dialect, {
      MAIL_URL: smtp.url("tollgate", PASSWORD),
      MAIL_FROM: "Kit Shop <hello@kits.example>",
      SHOP_NAME: "Kit Shop",
    });
  });
  afterAll(async () => {
    await h.close();
    await smtp.close();
  });

  it("POST /auth/login delivers the sign-in mail whose link signs in", async () => {
    const res = await h.request("/auth/login", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ email: "Ada@Example.com" }),
    });
    expect(res.status).toBe(202);

    const [got] = await smtp.waitFor(1);
    expect(got?.user).toBe("tollgate");
    expect(got?.envelope).toEqual({ from: "hello@kits.example", to: ["ada@example.com"] });
    expect(got?.mail.from?.value).toEqual([{ name: "Kit Shop", address: "hello@kits.example" }]);
    expect(got?.mail.subject).toMatch(/sign-in link/);
    const link = new RegExp(`${PUBLIC_URL}/auth/callback\\?token=[\\w-]+`).exec(
      got?.mail.text ?? "",
    )?.[0];
    expect(link).toBeDefined();
    expect(got?.mail.html).toContain(`href="${link}"`);
    // Real mail does not also land in the development outbox.
    expect(await readOutbox(h.deps.db)).toEqual([]);

    const signedIn = await h.request(link as string);
    expect(signedIn.status).toBe(303);
    expect(signedIn.headers.get("set-cookie")).toMatch(/^tg_session=/);
  });
});
