/**
 * The mail transport contract (./mailTransport.contract.ts) against an HTTP mail API: fetch to a
 * Resend-style API on 127.0.0.1 that refuses some recipients as a provider would.
 */
import { createServer } from "node:http";
import { httpMailer } from "../../src/adapters/mail-http/index.ts";
import { freePort } from "../support/server.ts";
import { type Delivered, mailTransportContract } from "./mailTransport.contract.ts";

const FROM = "Tollgate Shop <shop@example.com>";
const KEY = "re_test_0123456789abcdef";

/** A mail API that takes a message (200), refuses `to` for good (422) or is busy for it (503). */
async function mailApi(refuse: { forGood: string; forNow: string }) {
  const delivered: Delivered[] = [];
  const server = createServer((req, res) => {
    let body = "";
    req.setEncoding("utf8");
    req.on("data", (chunk: string) => (body += chunk));
    req.on("end", () => {
      const answer = (status: number, json: unknown) => {
        res.writeHead(status, { "content-type": "application/json" });
        res.end(JSON.stringify(json));
      };
      if (req.headers.authorization !== `Bearer ${KEY}`)
        return answer(401, { message: "API key is invalid" });
      const message = JSON.parse(body) as Omit<Delivered, "to"> & { to: string[] };
      const to = message.to.join(", ");
      if (to === refuse.forGood)
        return answer(422, { name: "validation_error", message: "Invalid `to` field." });
      if (to === refuse.forNow) return answer(503, { message: "Service busy, try later" });
      const { from, subject, text, html } = message;
      delivered.push({ to, from, subject, text, html });
      answer(200, { id: `email_${delivered.length}` });
    });
  });
  await new Promise<void>((ready) => server.listen(0, "127.0.0.1", ready));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}/emails`,
    delivered,
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((done) => server.close(() => done()));
    },
  };
}

mailTransportContract("an HTTP mail API (fetch, Resend-style)", async () => {
  const refuses = { forGood: "gone@example.com", forNow: "busy@example.com" };
  const api = await mailApi(refuses);
  const options = { apiKey: KEY, from: FROM, backoffMs: 1 };
  return {
    transport: httpMailer({ ...options, url: api.url }),
    from: FROM,
    delivered: async () => [...api.delivered],
    refuses,
    down: async () =>
      httpMailer({ ...options, url: `http://127.0.0.1:${await freePort()}/emails` }),
    close: api.close,
  };
});
