/**
 * The MailTransport port's contract (the outbox, SMTP, an HTTP mail API): one suite that every
 * transport runs against a real far side of its own. A transport sends a message src/mail
 * rendered; what arrives must be that message, and a failure must say whether the recipient's
 * address refused it for good (MailFailure, isPermanentMailFailure in ports.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  isPermanentMailFailure,
  MailFailure,
  type MailMessage,
  type MailTransport,
} from "../../src/core/ports.ts";

/** A message as the far side received it. */
export interface Delivered {
  to: string;
  /** The sender the far side was told, as "Name <address>"; null where none is kept. */
  from: string | null;
  subject: string;
  text: string;
  html: string;
}

/** One transport, with a far side of its own, as the suite needs to see it. */
export interface MailTransportSubject {
  transport: MailTransport;
  /** The sender the transport was set up with; null for one that keeps none (the outbox). */
  from: string | null;
  /** Every message that arrived, oldest first. */
  delivered(): Promise<Delivered[]>;
  /**
   * Recipients the far side refuses: for good (SMTP 550 at RCPT TO, a mail API's 422 for `to`)
   * and for now (SMTP 450, a mail API's 503). Absent: nothing on the far side refuses a
   * recipient (the outbox keeps every message).
   */
  refuses?: { forGood: string; forNow: string };
  /** A transport of the same kind whose far side is down (nothing listens, the database closed). */
  down(): Promise<MailTransport>;
  close(): Promise<void>;
}

const LINK = "https://shop.example.com/d/tok_Abc-123_xyz?asset=ast_9&from=mail#files";
const LONG = `Ünïcödé ${"long line without a break, ".repeat(60)}end.`;

/** UTF-8 everywhere, a line longer than SMTP's 998, a link with a query, lines SMTP escapes. */
const MESSAGE: Omit<MailMessage, "to"> = {
  subject: "Ihre Bestellung: Café-Kit ✓ — 日本語のガイド",
  text: [
    "Grüße aus dem Laden! 🎉",
    "",
    `Herunterladen: ${LINK}`,
    "",
    LONG,
    ".a line that starts with a dot",
    "From the shop, with thanks",
  ].join("\n"),
  html: [
    "<!doctype html>",
    '<html lang="de"><body>',
    "<p>Grüße aus dem Laden! 🎉</p>",
    `<p><a href="${LINK.replace(/&/g, "&amp;")}">Herunterladen</a></p>`,
    `<p>${LONG}</p>`,
    "</body></html>",
  ].join("\n"),
};

/** The error `promise` rejects with. */
async function failureOf(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error("expected the send to fail");
    },
    (error: unknown) => error,
  );
}

/**
 * Registers the contract's tests for one transport; `open` starts its far side before them and
 * the subject is closed after.
 */
export function mailTransportContract(name: string, open: () => Promise<MailTransportSubject>) {
  describe(`mail transport contract: ${name}`, () => {
    let subject: MailTransportSubject | null = null;
    beforeAll(async () => {
      subject = await open();
    });
    afterAll(async () => {
      await subject?.close();
    });
    const s = (): MailTransportSubject => {
      if (!subject) throw new Error(`${name}: the far side did not start`);
      return subject;
    };
    /** What arrived while `fn` ran. */
    const arrivedDuring = async (fn: () => Promise<unknown>) => {
      const before = (await s().delivered()).length;
      await fn();
      return (await s().delivered()).slice(before);
    };

    it("delivers to, from, subject, text and html intact (UTF-8, a long line, a link)", async () => {
      const message = { ...MESSAGE, to: "buyer+kit@example.com" };
      const arrived = await arrivedDuring(() => s().transport.send(message));
      expect(arrived).toEqual([
        {
          to: message.to,
          from: s().from,
          subject: message.subject,
          text: message.text,
          html: message.html,
        },
      ]);
    });

    it("sends each message once, to its own recipient", async () => {
      const to = ["a@example.com", "b@example.com", "c@example.com"];
      const arrived = await arrivedDuring(async () => {
        for (const address of to)
          await s().transport.send({ ...MESSAGE, to: address, subject: `For ${address}` });
      });
      expect(arrived.map((m) => [m.to, m.subject])).toEqual(to.map((a) => [a, `For ${a}`]));
    });

    it("a far side that is down is a failure, never a permanent one", async () => {
      const transport = await s().down();
      const error = await failureOf(transport.send({ ...MESSAGE, to: "buyer@example.com" }));
      expect(error).toBeInstanceOf(Error);
      expect(isPermanentMailFailure(error)).toBe(false);
    });

    it("a recipient refused for now is a MailFailure that is not permanent", async (t) => {
      const refuses = s().refuses;
      if (!refuses) return t.skip();
      const arrived = await arrivedDuring(async () => {
        const error = await failureOf(s().transport.send({ ...MESSAGE, to: refuses.forNow }));
        expect(error).toBeInstanceOf(MailFailure);
        expect(isPermanentMailFailure(error)).toBe(false);
      });
      expect(arrived).toEqual([]);
    });

    it("a recipient refused for good is a permanent MailFailure (the receipt bounced)", async (t) => {
      const refuses = s().refuses;
      if (!refuses) return t.skip();
      const arrived = await arrivedDuring(async () => {
        const error = await failureOf(s().transport.send({ ...MESSAGE, to: refuses.forGood }));
        expect(error).toBeInstanceOf(MailFailure);
        expect(isPermanentMailFailure(error)).toBe(true);
      });
      expect(arrived).toEqual([]);
      // The transport still sends to everyone else.
      const after = await arrivedDuring(() =>
        s().transport.send({ ...MESSAGE, to: "next@example.com" }),
      );
      expect(after.map((m) => m.to)).toEqual(["next@example.com"]);
    });
  });
}
