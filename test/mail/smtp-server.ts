import { type ParsedMail, simpleParser } from "mailparser";
import { SMTPServer } from "smtp-server";
import { PATIENCE_MS } from "../support/patience.ts";

export interface Received {
  mail: ParsedMail;
  /** The message as it came over the wire. */
  raw: string;
  envelope: { from: string; to: string[] };
  /** Who logged in, if anyone. */
  user: string | null;
  /** Whether the session ran over TLS (STARTTLS or implicit). */
  secure: boolean;
}

export type TestSmtpServer = Awaited<ReturnType<typeof startSmtpServer>>;

/**
 * A real SMTP server (the `smtp-server` package) on 127.0.0.1 that keeps what it receives.
 * tls: "none" offers no STARTTLS (and allows a login in plain text), "starttls" offers it,
 * "implicit" speaks TLS from the first byte; the last two use the package's own certificate,
 * which does not verify, so clients must be told to accept it.
 */
export async function startSmtpServer(
  opts: {
    tls?: "none" | "starttls" | "implicit";
    /** user -> password; without it the server asks for no login. */
    users?: Record<string, string>;
    /** Recipients refused with 550 at RCPT TO (no such mailbox: a bounce). */
    rejectRecipients?: string[];
    /** Recipients refused with 450 at RCPT TO (mailbox busy: try again later). */
    deferRecipients?: string[];
    /** Recipients whose message is refused after DATA, with this reply (code, then text). */
    rejectAtData?: Record<string, [number, string]>;
  } = {},
) {
  const tls = opts.tls ?? "none";
  const received: Received[] = [];
  /** Every RCPT TO the server was asked, refused or not, in order. */
  const recipientsAsked: string[] = [];
  const listeners: (() => void)[] = [];
  let connections = 0;
  const server = new SMTPServer({
    secure: tls === "implicit",
    ...(tls === "none" ? { disabledCommands: ["STARTTLS"], allowInsecureAuth: true } : {}),
    authOptional: !opts.users,
    closeTimeout: 1000,
    logger: false,
    onConnect(_session, callback) {
      connections++;
      callback();
    },
    onAuth(auth, _session, callback) {
      const expected = opts.users?.[auth.username ?? ""];
      if (expected !== undefined && auth.password === expected)
        return callback(null, { user: auth.username });
      callback(new Error("Invalid username or password"));
    },
    onRcptTo(address, _session, callback) {
      recipientsAsked.push(address.address);
      if (opts.rejectRecipients?.includes(address.address))
        return callback(Object.assign(new Error("No such user here"), { responseCode: 550 }));
      if (opts.deferRecipients?.includes(address.address))
        return callback(Object.assign(new Error("Mailbox busy, try later"), { responseCode: 450 }));
      callback();
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on("data", (chunk: Buffer) => chunks.push(chunk));
      stream.on("end", () => {
        const refusal = session.envelope.rcptTo
          .map((r) => opts.rejectAtData?.[r.address])
          .find((reply) => reply !== undefined);
        if (refusal)
          return callback(Object.assign(new Error(refusal[1]), { responseCode: refusal[0] }));
        const raw = Buffer.concat(chunks).toString("utf8");
        simpleParser(raw).then((mail) => {
          received.push({
            mail,
            raw,
            envelope: {
              from: session.envelope.mailFrom ? session.envelope.mailFrom.address : "",
              to: session.envelope.rcptTo.map((r) => r.address),
            },
            user: typeof session.user === "string" ? session.user : null,
            secure: session.secure,
          });
          for (const notify of listeners.splice(0)) notify();
          callback();
        }, callback);
      });
    },
  });
  await new Promise<void>((ready, fail) => {
    server.once("error", fail);
    server.listen(0, "127.0.0.1", () => ready());
  });
  const { port } = server.server.address() as { port: number };

  return {
    port,
    received,
    recipientsAsked,
    /** How many SMTP connections clients opened so far. */
    connections: () => connections,
    /** MAIL_URL for this server, with the password percent-encoded. */
    url(user?: string, pass?: string, scheme = tls === "implicit" ? "smtps" : "smtp") {
      const login = user ? `${encodeURIComponent(user)}:${encodeURIComponent(pass ?? "")}@` : "";
      return `${scheme}://${login}127.0.0.1:${port}`;
    },
    /** Resolves once `count` messages have arrived. */
    async waitFor(count: number, timeoutMs = PATIENCE_MS): Promise<Received[]> {
      const deadline = Date.now() + timeoutMs;
      while (received.length < count) {
        if (Date.now() > deadline) throw new Error(`only ${received.length} of ${count} arrived`);
        await new Promise<void>((arrived) => {
          listeners.push(arrived);
          setTimeout(arrived, 100);
        });
      }
      return received;
    },
    close: () => new Promise<void>((done) => server.close(() => done())),
  };
}
