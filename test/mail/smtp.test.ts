import { afterEach, describe, expect, it } from "vitest";
import { SmtpError, type SmtpMailer, smtpMailer } from "../../src/adapters/mail-smtp/index.ts";
import { isPermanentMailFailure, type MailMessage } from "../../src/core/ports.ts";
import { freePort } from "../support/server.ts";
import { startSmtpServer, type TestSmtpServer } from "./smtp-server.ts";

const FROM = "Tollgate Shop <shop@example.com>";
// Characters that must be percent-encoded in MAIL_URL, so decoding is tested too.
const PASSWORD = "p@ss:w/rd 42%";
const message: MailMessage = {
  to: "buyer@example.com",
  subject: "Your sign-in link",
  text: "Sign in: https://shop.example.com/auth/callback?token=abc",
  html: '<p>Sign in: <a href="https://shop.example.com/auth/callback?token=abc">here</a></p>',
};
// The package's own certificate is self-signed (and expired): accepted only where a test says so.
const acceptTestCertificate = { rejectUnauthorized: false };

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

async function server(opts: Parameters<typeof startSmtpServer>[0]): Promise<TestSmtpServer> {
  const started = await startSmtpServer(opts);
  cleanups.push(started.close);
  return started;
}

function mailer(opts: Parameters<typeof smtpMailer>[0]): SmtpMailer {
  const made = smtpMailer(opts);
  cleanups.push(() => made.close());
  return made;
}

/** The error `promise` rejects with, which must be an SmtpError without the password. */
async function failure(promise: Promise<unknown>): Promise<SmtpError> {
  const error = await promise.then(
    () => {
      throw new Error("expected the SMTP call to fail");
    },
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(SmtpError);
  const { message: text } = error as SmtpError;
  expect(text).not.toContain(PASSWORD);
  expect(text).not.toContain(encodeURIComponent(PASSWORD));
  return error as SmtpError;
}

describe("SMTP mail (nodemailer against a real SMTP server)", () => {
  it("delivers one multipart message with From, To, Subject, text and HTML, over STARTTLS with a login", async () => {
    const smtp = await server({ tls: "starttls", users: { shop: PASSWORD } });
    const sender = mailer({
      url: smtp.url("shop", PASSWORD),
      from: FROM,
      tls: acceptTestCertificate,
    });

    await sender.send(message);

    const [got] = await smtp.waitFor(1);
    expect(got?.secure).toBe(true);
    expect(got?.user).toBe("shop");
    expect(got?.envelope).toEqual({ from: "shop@example.com", to: ["buyer@example.com"] });
    expect(got?.mail.from?.value).toEqual([{ name: "Tollgate Shop", address: "shop@example.com" }]);
    expect(got?.raw).toMatch(/^From: Tollgate Shop <shop@example\.com>\r?$/m);
    expect(got?.mail.to).toMatchObject({ value: [{ address: "buyer@example.com" }] });
    expect(got?.mail.subject).toBe(message.subject);
    expect(got?.mail.text?.trim()).toBe(message.text);
    expect(got?.mail.html).toBe(message.html);
    expect(got?.raw).toMatch(/^Content-Type: multipart\/alternative/im);
    expect(got?.raw).not.toContain(PASSWORD);
  });

  it("passes the message's extra headers (one-click unsubscribe, RFC 8058) as they are", async () => {
    const smtp = await server({ tls: "implicit", users: { shop: PASSWORD } });
    const unsubscribe = "https://shop.example.com/unsubscribe?token=YWJj.c2ln";
    await mailer({ url: smtp.url("shop", PASSWORD), from: FROM, tls: acceptTestCertificate }).send({
      ...message,
      headers: {
        "List-Unsubscribe": `<${unsubscribe}>`,
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
      },
    });
    const [got] = await smtp.waitFor(1);
    expect(got?.raw).toMatch(
      /^List-Unsubscribe: <https:\/\/shop\.example\.com\/unsubscribe\?token=YWJj\.c2ln>\r?$/m,
    );
    expect(got?.raw).toMatch(/^List-Unsubscribe-Post: List-Unsubscribe=One-Click\r?$/m);
  });

  it("speaks TLS from the first byte with smtps://", async () => {
    const smtp = await server({ tls: "implicit", users: { shop: PASSWORD } });
    const url = smtp.url("shop", PASSWORD);
    expect(url).toMatch(/^smtps:\/\//);
    await mailer({ url, from: FROM, tls: acceptTestCertificate }).send(message);
    const [got] = await smtp.waitFor(1);
    expect(got?.secure).toBe(true);
    expect(got?.mail.subject).toBe(message.subject);
  });

  it("never falls back to plain text when the offered STARTTLS certificate does not verify", async () => {
    const smtp = await server({ tls: "starttls", users: { shop: PASSWORD } });
    const error = await failure(
      mailer({ url: smtp.url("shop", PASSWORD), from: FROM }).send(message),
    );
    expect(error.failure).toBe("tls");
    expect(error.message).toMatch(new RegExp(`TLS with SMTP server 127\\.0\\.0\\.1:${smtp.port}`));
    expect(smtp.received).toHaveLength(0);
  });

  it("reuses one pooled connection for several messages", async () => {
    const smtp = await server({ users: { shop: PASSWORD } });
    const sender = mailer({ url: smtp.url("shop", PASSWORD), from: FROM });
    for (const to of ["a@example.com", "b@example.com", "c@example.com"])
      await sender.send({ ...message, to });
    const got = await smtp.waitFor(3);
    expect(got.map((r) => r.envelope.to[0])).toEqual([
      "a@example.com",
      "b@example.com",
      "c@example.com",
    ]);
    expect(smtp.connections()).toBe(1);
  });

  it("says the login was refused when the password is wrong, without the password", async () => {
    const smtp = await server({ users: { shop: "the-right-one" } });
    const error = await failure(
      mailer({ url: smtp.url("shop", PASSWORD), from: FROM }).send(message),
    );
    expect(error.failure).toBe("auth");
    expect(error.message).toBe(
      `SMTP server 127.0.0.1:${smtp.port} refused the login for user "shop" (check the user and password in MAIL_URL): 535 Invalid username or password`,
    );
    expect(smtp.received).toHaveLength(0);
  });

  it("says the connection was refused when nothing listens", async () => {
    const port = await freePort();
    const error = await failure(
      mailer({
        url: `smtp://shop:${encodeURIComponent(PASSWORD)}@127.0.0.1:${port}`,
        from: FROM,
      }).send(message),
    );
    expect(error.failure).toBe("connection");
    expect(error.message).toBe(
      `SMTP server 127.0.0.1:${port} refused the connection (nothing listens on that port?)`,
    );
  });

  it("names the recipient the server rejected", async () => {
    const smtp = await server({
      users: { shop: PASSWORD },
      rejectRecipients: ["nobody@example.com"],
    });
    const error = await failure(
      mailer({ url: smtp.url("shop", PASSWORD), from: FROM }).send({
        ...message,
        to: "nobody@example.com",
      }),
    );
    expect(error.failure).toBe("recipient");
    expect(error.message).toBe(
      `SMTP server 127.0.0.1:${smtp.port} rejected the recipient nobody@example.com: 550 No such user here`,
    );
  });

  it("a 5xx for the recipient is a permanent failure of the Mailer port; a 4xx, a refused login, an unreachable server are not", async () => {
    const smtp = await server({
      users: { shop: PASSWORD },
      rejectRecipients: ["gone@example.com"],
      deferRecipients: ["busy@example.com"],
      rejectAtData: {
        "closed@example.com": [550, "5.1.1 Mailbox does not exist"],
        "spammy@example.com": [554, "5.7.1 Message refused as spam"],
      },
    });
    const sender = mailer({ url: smtp.url("shop", PASSWORD), from: FROM });
    const to = (address: string) => failure(sender.send({ ...message, to: address }));

    const gone = await to("gone@example.com");
    expect(gone.permanent).toBe(true);
    expect(isPermanentMailFailure(gone)).toBe(true);
    expect(gone.message).toBe(
      `SMTP server 127.0.0.1:${smtp.port} rejected the recipient gone@example.com: 550 No such user here`,
    );
    // A server that checks the mailbox after DATA says so with 5.1.x: just as final.
    expect((await to("closed@example.com")).permanent).toBe(true);

    const busy = await to("busy@example.com");
    expect(busy.failure).toBe("recipient");
    expect(busy.message).toMatch(/: 450 Mailbox busy, try later$/);
    expect(isPermanentMailFailure(busy)).toBe(false);
    // Refused as spam is about the shop's mail, not the buyer's address: tried again.
    expect(isPermanentMailFailure(await to("spammy@example.com"))).toBe(false);

    const login = await failure(
      mailer({ url: smtp.url("shop", "wrong"), from: FROM }).send({
        ...message,
        to: "gone@example.com",
      }),
    );
    expect(login.failure).toBe("auth");
    expect(isPermanentMailFailure(login)).toBe(false);
    const nobody = await failure(
      mailer({ url: `smtp://127.0.0.1:${await freePort()}`, from: FROM }).send(message),
    );
    expect(isPermanentMailFailure(nobody)).toBe(false);
    expect(smtp.received).toHaveLength(0);
  });

  it("verify() logs in without sending, and names a refused login", async () => {
    const smtp = await server({ users: { shop: PASSWORD } });
    const good = mailer({ url: smtp.url("shop", PASSWORD), from: FROM });
    await expect(good.verify()).resolves.toBeUndefined();
    expect(good.server).toBe(`127.0.0.1:${smtp.port}`);
    expect(good.user).toBe("shop");

    const bad = mailer({ url: smtp.url("shop", "wrong"), from: FROM });
    const error = await failure(bad.verify());
    expect(error.failure).toBe("auth");
    expect(error.message).toMatch(/refused the login for user "shop"/);
    expect(smtp.received).toHaveLength(0);
  });
});
