import { Hono } from "hono";
import { confirmSharing, requestSharingConfirmation } from "../../core/downloads/sharingFlags.ts";
import { ConfirmSentPage } from "../../pages/sharing.tsx";
import { readBody } from "../body.ts";
import type { HonoEnv } from "../env.ts";
import { wantsHtml } from "../errors.ts";
import { pageProps } from "../pageProps.ts";

/**
 * Sharing detection's buyer side (decision 0028): the "Confirm it's you" page (shown by
 * errors.ts for a `confirm_required` refusal) posts here, and the mailed link comes back here.
 */
export const sharing = new Hono<HonoEnv>()
  .post("/sharing/confirm", async (c) => {
    const body = await readBody(c);
    const sent = await requestSharingConfirmation({
      ctx: c.get("ctx"),
      input: { request: body.request, next: body.next, ip: c.get("deps").clientIp(c) },
    });
    const next = typeof body.next === "string" ? body.next : null;
    if (wantsHtml(c)) {
      return c.html(
        <ConfirmSentPage {...pageProps(c)} email={sent.email} hours={sent.hours} next={next} />,
        sent.status === "sent" ? 202 : 200,
      );
    }
    return c.json(
      {
        status: sent.status,
        email: sent.email,
        message:
          sent.status === "sent"
            ? `A one-time confirmation link is on its way to ${sent.email}; opening it lets the download go on.`
            : "Nothing to confirm any more: the download can go on.",
      },
      sent.status === "sent" ? 202 : 200,
    );
  })
  .get("/sharing/confirm", async (c) => {
    const { next } = await confirmSharing({
      ctx: c.get("ctx"),
      input: { token: c.req.query("token"), next: c.req.query("next") },
    });
    // The download it was asked from goes on; without one, the library.
    return c.redirect(next ?? "/library", 303);
  });
