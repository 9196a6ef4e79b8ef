import { createServer } from "node:http";
import type { AddressInfo } from "node:net";

/** One request to the mail API, as src/adapters/mail-http sends it (Resend's JSON). */
export interface MailApiRequest {
  authorization: string | undefined;
  body: {
    from: string;
    to: string[];
    subject: string;
    text: string;
    html?: string;
    /** Extra header fields of the message (List-Unsubscribe, ...), when it has some. */
    headers?: Record<string, string>;
  };
}

/** A Resend-style HTTP mail API on 127.0.0.1 that keeps every mail it is sent and answers 200. */
export async function mailApiReceiver() {
  const sent: MailApiRequest[] = [];
  const server = createServer((req, res) => {
    let body = "";
    req.setEncoding("utf8");
    req.on("data", (chunk) => {
      body += chunk;
    });
    req.on("end", () => {
      sent.push({ authorization: req.headers.authorization, body: JSON.parse(body) });
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ id: `email_${sent.length}` }));
    });
  });
  await new Promise<void>((ready) => server.listen(0, "127.0.0.1", ready));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/emails`,
    sent,
    /** The mails sent to this address, in order. */
    to: (address: string) => sent.filter((m) => m.body.to.includes(address)),
    close: () =>
      new Promise<void>((done) => {
        server.closeAllConnections();
        server.close(() => done());
      }),
  };
}
