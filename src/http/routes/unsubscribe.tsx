import { Hono } from "hono";
import { readUnsubscribeToken, unsubscribe } from "../../core/releases/unsubscribe.ts";
import { UnsubscribePage } from "../../pages/unsubscribe.tsx";
import { isFormPost, readBody } from "../body.ts";
import type { HonoEnv } from "../env.ts";
import { pageProps, wantsJson } from "../pageProps.ts";

/**
 * One-click unsubscribe from update mails (RFC 8058, decision 0018): the mail's
 * List-Unsubscribe URL takes a POST (List-Unsubscribe=One-Click) with no session; opening it
 * (GET) shows a page with one button and changes nothing.
 */
export const unsubscribeRoutes = new Hono<HonoEnv>()
  .get("/unsubscribe", async (c) => {
    c.header("Referrer-Policy", "no-referrer");
    c.header("Cache-Control", "private, no-store");
    const token = c.req.query("token");
    const email = await readUnsubscribeToken(c.get("ctx"), token);
    return c.html(
      <UnsubscribePage
        {...pageProps(c)}
        email={email}
        action={`/unsubscribe?token=${encodeURIComponent(token ?? "")}`}
        done={false}
      />,
    );
  })
  .post("/unsubscribe", async (c) => {
    c.header("Referrer-Policy", "no-referrer");
    c.header("Cache-Control", "private, no-store");
    let token = c.req.query("token");
    if (!token && isFormPost(c)) {
      const body = await readBody(c);
      token = typeof body.token === "string" ? body.token : undefined;
    }
    const { email } = await unsubscribe({ ctx: c.get("ctx"), input: { token } });
    if (wantsJson(c)) return c.json({ unsubscribed: true });
    return c.html(<UnsubscribePage {...pageProps(c)} email={email} action="" done={true} />);
  });
