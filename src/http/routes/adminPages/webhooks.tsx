import { Hono } from "hono";
import { AppError } from "../../../core/errors.ts";
import { replayEvent } from "../../../core/orders/reconcile.ts";
import { listWebhookEvents } from "../../../core/orders/webhookEvents.ts";
import { parseInput } from "../../../core/validate.ts";
import * as z from "../../../core/zod.ts";
import { EVENT_FILTERS, WebhooksPage } from "../../../pages/admin/webhooks.tsx";
import type { HonoEnv } from "../../env.ts";
import { pageProps } from "../../pageProps.ts";
import { noticeFor, redirectDone } from "./forms.ts";

const NOTICES = {
  "replayed-processed": "Replayed: the event was applied.",
  "replayed-ignored": "Replayed: there was nothing for the shop to do with this event.",
  "replayed-flagged":
    "Replayed: the order is flagged and no access was given. Its note says why; the order page explains what to do.",
  "replayed-duplicate": "Replayed: the event was being handled already; nothing changed.",
  "replay-failed":
    "Replay failed: the event was not applied. Its error is below; fix the cause and replay it again.",
};

const query = z.object({
  status: z._default(
    z.enum(["", ...EVENT_FILTERS], { error: "must be failed, flagged, processed or ignored" }),
    "",
  ),
  event: z.optional(z.string().check(z.maxLength(255))),
  limit: z._default(z.coerce.number().check(z.int(), z.minimum(1), z.maximum(1000)), 100),
});

export const webhookPages = new Hono<HonoEnv>()
  .get("/admin/webhooks", async (c) => {
    const { status, event, limit } = parseInput(query, c.req.query());
    const events = await listWebhookEvents({
      ctx: c.get("ctx"),
      input: { limit, ...(status ? { status } : {}) },
    });
    return c.html(
      <WebhooksPage
        {...pageProps(c)}
        notice={noticeFor(c, NOTICES)}
        events={events}
        status={status}
        replayed={(event && events.find((e) => e.id === event)) || null}
      />,
    );
  })
  .post("/admin/webhooks/:id/replay", async (c) => {
    const eventId = c.req.param("id");
    const back = `/admin/webhooks?event=${encodeURIComponent(eventId)}`;
    try {
      const result = await replayEvent({ ctx: c.get("ctx"), input: { eventId } });
      const outcome = result.duplicate ? "duplicate" : (result.outcome?.status ?? "processed");
      return redirectDone(c, back, `replayed-${outcome}`);
    } catch (error) {
      // The event path recorded the failure on the event (status and error) and logged it.
      if (error instanceof AppError && error.code === "not_found") throw error;
      c.get("ctx").log.warn("replay failed", { eventId, error: String(error) });
      return redirectDone(c, back, "replay-failed");
    }
  });
