import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import { afterEach, describe, expect, it } from "vitest";
import { httpMailer, MailApiError } from "../../src/adapters/mail-http/index.ts";
import { isPermanentMailFailure, type MailMessage } from "../../src/core/ports.ts";
import { freePort } from "../support/server.ts";

const KEY = "re_test_0123456789abcdef";
const FROM = "Tollgate Shop <shop@example.com>";
const message: MailMessage = {
  to: "buyer@example.com",
  subject: "Your purchase: Starter Kit",
  text: "Download: https://shop.example.com/d/tok",
  html: '<p><a href="https://shop.example.com/d/tok">Download</a></p>',
};

interface Seen {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

type Answer = { status: number; body?: unknown; headers?: Record<string, string> } | "hang";

const servers: Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((done) => s.close(done));
  }
});

/** A mail API on 127.0.0.1 that gives the scripted answers in turn (the last one repeats). */
async function mailApi(...answers: Answer[]) {
  const seen: Seen[] = [];
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (chunk) => (body += chunk));
    req.on("end", () => {
      seen.push({ method: req.method ?? "", path: req.url ?? "", headers: req.headers, body });
      const answer = answers[Math.min(seen.length - 1, answers.length - 1)] ?? { status: 200 };
      if (answer === "hang") return;
      res.writeHead(answer.status, { "content-type": "application/json", ...answer.headers });
      res.end(JSON.stringify(answer.body ?? { id: `email_${seen.length}` }));
    });
  });
  servers.push(server);
  await new Promise<void>((ready) => server.listen(0, "127.0.0.1", ready));
  const { port } = server.address() as { port: number };
  return { url: `http://127.0.0.1:${port}/emails`, seen };
}

async function failure(promise: Promise<unknown>): Promise<MailApiError> {
  const error = await promise.then(
    () => {
      throw new Error("expected the send to fail");
    },
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(MailApiError);
  expect((error as Error).message).not.toContain(KEY);
  return error as MailApiError;
}

describe("HTTP mail API (fetch against a local server)", () => {
  it("posts the message as JSON with the key as a Bearer token", async () => {
    const api = await mailApi({ status: 200 });
    await httpMailer({ url: api.url, apiKey: KEY, from: FROM }).send(message);

    expect(api.seen).toHaveLength(1);
    const [req] = api.seen;
    expect(req?.method).toBe("POST");
    expect(req?.path).toBe("/emails");
    expect(req?.headers.authorization).toBe(`Bearer ${KEY}`);
    expect(req?.headers["content-type"]).toBe("application/json");
    expect(req?.headers["idempotency-key"]).toMatch(/^[0-9a-f-]{36}$/);
    expect(JSON.parse(req?.body ?? "")).toEqual({
      from: FROM,
      to: ["buyer@example.com"],
      subject: message.subject,
      text: message.text,
      html: message.html,
    });
  });

  it("passes the message's extra headers as the API's headers object", async () => {
    const api = await mailApi({ status: 200 });
    const headers = {
      "List-Unsubscribe": "<https://shop.example.com/unsubscribe?token=t>",
      "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    };
    await httpMailer({ url: api.url, apiKey: KEY, from: FROM }).send({ ...message, headers });
    expect(JSON.parse(api.seen[0]?.body ?? "").headers).toEqual(headers);
  });

  it("throws the provider's message on a 422, without retrying", async () => {
    const api = await mailApi({
      status: 422,
      body: {
        statusCode: 422,
        name: "validation_error",
        message:
          "Invalid `to` field. The email address needs to follow the `email@example.com` format.",
      },
    });
    const error = await failure(
      httpMailer({ url: api.url, apiKey: KEY, from: FROM }).send(message),
    );
    expect(error.status).toBe(422);
    expect(error.message).toBe(
      `mail API ${new URL(api.url).host}/emails answered 422: Invalid \`to\` field. The email address needs to follow the \`email@example.com\` format.`,
    );
    expect(api.seen).toHaveLength(1);
  });

  it("a refused recipient (400/422) is a permanent failure of the Mailer port; a refused sender, key, or an outage are not", async () => {
    const send = async (answer: Answer) => {
      const api = await mailApi(answer);
      return failure(
        httpMailer({ url: api.url, apiKey: KEY, from: FROM, backoffMs: 1 }).send(message),
      );
    };
    const invalidTo = await send({
      status: 422,
      body: { name: "validation_error", message: "Invalid `to` field." },
    });
    expect(invalidTo.permanent).toBe(true);
    expect(isPermanentMailFailure(invalidTo)).toBe(true);
    const inactive = await send({
      status: 422,
      body: {
        ErrorCode: 406,
        Message: "You tried to send to recipient(s) that have been marked as inactive.",
      },
    });
    expect(isPermanentMailFailure(inactive)).toBe(true);
    const invalidAddress = await send({
      status: 400,
      body: { errors: [{ message: "Does not contain a valid address." }] },
    });
    expect(isPermanentMailFailure(invalidAddress)).toBe(true);

    // The shop's own settings: fixed by the seller, after which the receipts should go.
    const badFrom = await send({
      status: 422,
      body: { message: "Invalid `from` field. The email address needs to follow the format." },
    });
    expect(isPermanentMailFailure(badFrom)).toBe(false);
    expect(isPermanentMailFailure(await send({ status: 401, body: { message: "bad key" } }))).toBe(
      false,
    );
    expect(isPermanentMailFailure(await send({ status: 403, body: { message: "no" } }))).toBe(
      false,
    );
    expect(isPermanentMailFailure(await send({ status: 500, body: { message: "down" } }))).toBe(
      false,
    );
    expect(isPermanentMailFailure(await send({ status: 429, body: { message: "slow" } }))).toBe(
      false,
    );
  });

  it("retries a 503 and succeeds, with the same idempotency key", async () => {
    const api = await mailApi({ status: 503, body: { message: "busy" } }, { status: 200 });
    await httpMailer({ url: api.url, apiKey: KEY, from: FROM }).send(message);
    expect(api.seen).toHaveLength(2);
    expect(api.seen[1]?.body).toBe(api.seen[0]?.body);
    expect(api.seen[1]?.headers["idempotency-key"]).toBe(api.seen[0]?.headers["idempotency-key"]);
  });

  it("waits as long as a 429's Retry-After says, then succeeds", async () => {
    const api = await mailApi(
      { status: 429, headers: { "retry-after": "1" }, body: { message: "Too many requests" } },
      { status: 202 },
    );
    const started = Date.now();
    await httpMailer({ url: api.url, apiKey: KEY, from: FROM, backoffMs: 1 }).send(message);
    expect(api.seen).toHaveLength(2);
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
  });

  it("gives up after a few tries when the provider stays down", async () => {
    const api = await mailApi({ status: 500, body: { error: { message: "internal" } } });
    const error = await failure(
      httpMailer({ url: api.url, apiKey: KEY, from: FROM, backoffMs: 5 }).send(message),
    );
    expect(error.status).toBe(500);
    expect(error.message).toMatch(/answered 500: internal$/);
    expect(api.seen).toHaveLength(3);
  });

  it("points at MAIL_API_KEY when the key is refused, and never shows it", async () => {
    const api = await mailApi({ status: 401, body: { message: `API key ${KEY} is invalid` } });
    const error = await failure(
      httpMailer({ url: api.url, apiKey: KEY, from: FROM }).send(message),
    );
    expect(error.message).toBe(
      `mail API ${new URL(api.url).host}/emails answered 401 (check MAIL_API_KEY): API key *** is invalid`,
    );
  });

  it("stops waiting after the timeout", async () => {
    const api = await mailApi("hang");
    const error = await failure(
      httpMailer({ url: api.url, apiKey: KEY, from: FROM, timeoutMs: 300 }).send(message),
    );
    expect(error.status).toBeNull();
    expect(error.message).toMatch(/did not answer within 0\.3s$/);
    expect(api.seen).toHaveLength(1);
  });

  it("says the API could not be reached when nothing listens", async () => {
    const url = `http://127.0.0.1:${await freePort()}/emails`;
    const error = await failure(
      httpMailer({ url, apiKey: KEY, from: FROM, backoffMs: 5 }).send(message),
    );
    expect(error.status).toBeNull();
    expect(error.message).toMatch(/could not be reached \(connection refused\)$/);
  });
});
