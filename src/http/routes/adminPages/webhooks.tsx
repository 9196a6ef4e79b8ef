import { Hono } from "hono";
import { AppError } from "../../../core/errors.ts";
import { replayEvent } from "../../../core/orders/reconcile.ts";
import { listWebhookEvents } from "../../../core/orders/webhookEvents.ts";
import { parseInput } from "../../../core/validate.ts";
import {
  createEndpoint,
  deleteEndpoint,
  getEndpoint,
  listDeliveries,
  listEndpoints,
  replayDelivery,
  updateEndpoint,
} from "../../../core/webhooks/endpoints.ts";
import { WEBHOOK_EVENT_TYPES } from "../../../core/webhooks/events.ts";
import * as z from "../../../core/zod.ts";
import {
  WebhookEndpointPage,
  WebhookEndpointsPage,
} from "../../../pages/admin/webhookEndpoints.tsx";
import { EVENT_FILTERS, WebhooksPage } from "../../../pages/admin/webhooks.tsx";
import type { HonoEnv } from "../../env.ts";
import { pageProps } from "../../pageProps.ts";
import { attempt, noticeFor, readForm, redirectDone } from "./forms.ts";

const ENDPOINT_NOTICES = {
  enabled: "Endpoint enabled: events go to it again. Replay the deliveries it missed.",
  disabled: "Endpoint disabled: no events are recorded for it until you enable it.",
  deleted: "Endpoint deleted.",
  replayed: "Replay queued: it is sent within a few seconds.",
};

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
  })
  .get("/admin/webhooks/endpoints", async (c) =>
    c.html(
      <WebhookEndpointsPage
        {...pageProps(c)}
        notice={noticeFor(c, ENDPOINT_NOTICES)}
        endpoints={await listEndpoints({ ctx: c.get("ctx") })}
        eventTypes={WEBHOOK_EVENT_TYPES}
        values={{ url: "", events: [] }}
      />,
    ),
  )
  .post("/admin/webhooks/endpoints", async (c) => {
    const ctx = c.get("ctx");
    const form = await readForm(c);
    const values = {
      url: form.url?.trim() ?? "",
      events: WEBHOOK_EVENT_TYPES.filter((t) => form[`event:${t}`] === "on"),
    };
    const created = await attempt(() => createEndpoint({ ctx, input: values }));
    // The secret is shown in this answer, never in a URL or a later page.
    return c.html(
      <WebhookEndpointsPage
        {...pageProps(c)}
        endpoints={await listEndpoints({ ctx })}
        eventTypes={WEBHOOK_EVENT_TYPES}
        values={created.ok ? { url: "", events: [] } : values}
        error={created.ok ? null : created.message}
        created={created.ok ? created.value : null}
      />,
      created.ok ? 201 : 400,
    );
  })
  .get("/admin/webhooks/endpoints/:id", async (c) => {
    const ctx = c.get("ctx");
    const id = c.req.param("id");
    return c.html(
      <WebhookEndpointPage
        {...pageProps(c)}
        notice={noticeFor(c, ENDPOINT_NOTICES)}
        endpoint={await getEndpoint({ ctx, input: { id } })}
        deliveries={await listDeliveries({ ctx, input: { id } })}
      />,
    );
  })
  .post("/admin/webhooks/endpoints/:id/:action{enable|disable}", async (c) => {
    const id = c.req.param("id");
    const enabled = c.req.param("action") === "enable";
    await updateEndpoint({ ctx: c.get("ctx"), input: { id, changes: { enabled } } });
    return redirectDone(c, `/admin/webhooks/endpoints/${id}`, enabled ? "enabled" : "disabled");
  })
  .post("/admin/webhooks/endpoints/:id/delete", async (c) => {
    await deleteEndpoint({ ctx: c.get("ctx"), input: { id: c.req.param("id") } });
    return redirectDone(c, "/admin/webhooks/endpoints", "deleted");
  })
  .post("/admin/webhooks/deliveries/:id/replay", async (c) => {
    const ctx = c.get("ctx");
    const replay = await replayDelivery({ ctx, input: { id: c.req.param("id") } });
    return redirectDone(c, `/admin/webhooks/endpoints/${replay.endpointId}`, "replayed");
  });
