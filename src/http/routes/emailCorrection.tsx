import { Hono } from "hono";
import { AppError } from "../../core/errors.ts";
import { requestEmailCorrection } from "../../core/orders/correctEmail.ts";
import { CorrectionRefusedPage, CorrectionSentPage } from "../../pages/emailCorrection.tsx";
import { isFormPost, readBody } from "../body.ts";
import type { HonoEnv } from "../env.ts";
import { STATUS } from "../errors.ts";
import { pageProps } from "../pageProps.ts";

/** Looks like a checkout session id: worth a link back to its page. */
const SESSION_SHAPE = /^cs_[A-Za-z0-9_]{10,200}$/;

/**
 * A bounced receipt's correction from the success page (decision 0024): a form post from the
 * paying browser, or JSON `{ sessionId, email }`. Registered before the checkout routes, whose
 * `POST /checkout/:slug` would otherwise take it.
 */
export const emailCorrection = new Hono<HonoEnv>().post("/checkout/correct-email", async (c) => {
  c.header("Referrer-Policy", "no-referrer");
  c.header("Cache-Control", "private, no-store");
  const body = await readBody(c);
  const sessionId = typeof body.sessionId === "string" ? body.sessionId.slice(0, 300) : "";
  const backUrl = SESSION_SHAPE.test(sessionId)
    ? `/checkout/success?session_id=${encodeURIComponent(sessionId)}`
    : null;
  try {
    const sent = await requestEmailCorrection({
      ctx: c.get("ctx"),
      input: { sessionId: body.sessionId, email: body.email, ip: c.get("deps").clientIp(c) },
    });
    if (!isFormPost(c)) {
      const expiry = sent.minutes ? ` It works for ${sent.minutes} minutes.` : "";
      return c.json(
        {
          ok: true,
          message: `We sent a sign-in link to ${sent.email}. Once it is used, the purchase moves to that address.${expiry}`,
        },
        202,
      );
    }
    return c.html(
      <CorrectionSentPage
        {...pageProps(c)}
        email={sent.email}
        productName={sent.productName}
        minutes={sent.minutes}
        backUrl={backUrl ?? "/library"}
      />,
    );
  } catch (error) {
    // A person gets the reason and the way on; programs the usual error answer.
    if (!(error instanceof AppError) || !isFormPost(c)) throw error;
    const retryAfter = error.details?.retryAfterSeconds;
    if (typeof retryAfter === "number") c.header("Retry-After", String(retryAfter));
    const mistyped = error.code === "invalid_input" && backUrl !== null;
    return c.html(
      <CorrectionRefusedPage
        {...pageProps(c)}
        error={error.message}
        backUrl={error.code === "not_found" ? null : backUrl}
        retry={mistyped ? { sessionId, typed: String(body.email ?? "").slice(0, 254) } : undefined}
      />,
      STATUS[error.code],
    );
  }
});
