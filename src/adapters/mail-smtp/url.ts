/** Where and how to reach an SMTP server, read from MAIL_URL (smtp:// or smtps://). */
export interface SmtpServer {
  host: string;
  port: number;
  /** TLS from the first byte (smtps://, usually 465); otherwise STARTTLS when the server offers it. */
  secure: boolean;
  user: string | null;
  pass: string | null;
}

/** Parses MAIL_URL; config.ts has already said in words what is wrong with a bad one. */
export function parseSmtpUrl(text: string): SmtpServer {
  const url = new URL(text);
  if (url.protocol !== "smtp:" && url.protocol !== "smtps:")
    throw new Error("MAIL_URL must start with smtp:// or smtps://");
  const secure = url.protocol === "smtps:";
  // IPv6 literals keep their brackets in URL.hostname; sockets want the bare address.
  const host = url.hostname.replace(/^\[(.*)\]$/, "$1");
  if (!host) throw new Error("MAIL_URL has no host");
  return {
    host,
    port: url.port ? Number(url.port) : secure ? 465 : 587,
    secure,
    user: url.username ? decodeURIComponent(url.username) : null,
    pass: url.password ? decodeURIComponent(url.password) : null,
  };
}

/** `host:port`, for messages: never the password. */
export function serverName(server: SmtpServer): string {
  return `${server.host.includes(":") ? `[${server.host}]` : server.host}:${server.port}`;
}
