import { Hono } from "hono";
import type { Unchecked } from "../../core/validate.ts";
import {
  createEndpoint,
  createEndpointSchema,
  deleteEndpoint,
  getEndpoint,
  listDeliveries,
  listEndpoints,
  replayDelivery,
  updateEndpoint,
  updateEndpointSchema,
} from "../../core/webhooks/endpoints.ts";
import { readBody } from "../body.ts";
import type { HonoEnv } from "../env.ts";
import { apiDoc } from "../openapi/describe.ts";

/** Outgoing webhooks: the seller's endpoints and their delivery logs (decision 0017). */
export const adminWebhookEndpoints = new Hono<HonoEnv>()
  .post(
    "/api/admin/webhook-endpoints",
    apiDoc({
      summary: "Register a webhook endpoint",
      description:
        "The answer carries the signing secret (whsec_...), the only time it is shown. Each delivery is signed as Standard Webhooks says (webhook-id, webhook-timestamp, webhook-signature headers). Loopback and private addresses are refused unless WEBHOOK_ALLOW_PRIVATE_URLS=true. Events: order.paid, order.refunded, access.granted, access.revoked, release.published, license.activated, license.deactivated, license.revoked (their data: docs/webhooks.md).",
      tag: "Webhooks",
      auth: "admin",
      body: createEndpointSchema,
      status: 201,
      response: "WebhookEndpointCreated",
    }),
    async (c) => {
      const input = (await readBody(c)) as Unchecked;
      return c.json(await createEndpoint({ ctx: c.get("ctx"), input }), 201);
    },
  )
  .get(
    "/api/admin/webhook-endpoints",
    apiDoc({
      summary: "List webhook endpoints, newest first",
      tag: "Webhooks",
      auth: "admin",
      response: "WebhookEndpoints",
    }),
    async (c) => c.json({ endpoints: await listEndpoints({ ctx: c.get("ctx") }) }),
  )
  .get(
    "/api/admin/webhook-endpoints/:id",
    apiDoc({
      summary: "A webhook endpoint",
      tag: "Webhooks",
      auth: "admin",
      params: { id: "The endpoint's id." },
      response: "WebhookEndpoint",
      errors: ["not_found"],
    }),
    async (c) => c.json(await getEndpoint({ ctx: c.get("ctx"), input: { id: c.req.param("id") } })),
  )
  .patch(
    "/api/admin/webhook-endpoints/:id",
    apiDoc({
      summary: "Change an endpoint's URL or events, disable or enable it",
      description:
        "Enabling an endpoint forgets its failures; it is disabled by itself after three days of failed deliveries.",
      tag: "Webhooks",
      auth: "admin",
      params: { id: "The endpoint's id." },
      body: updateEndpointSchema,
      response: "WebhookEndpoint",
      errors: ["not_found"],
    }),
    async (c) => {
      const changes = (await readBody(c)) as Unchecked;
      const id = c.req.param("id");
      return c.json(await updateEndpoint({ ctx: c.get("ctx"), input: { id, changes } }));
    },
  )
  .delete(
    "/api/admin/webhook-endpoints/:id",
    apiDoc({
      summary: "Delete an endpoint and its delivery log",
      tag: "Webhooks",
      auth: "admin",
      params: { id: "The endpoint's id." },
      response: "WebhookEndpointDeleted",
      errors: ["not_found"],
    }),
    async (c) => {
      await deleteEndpoint({ ctx: c.get("ctx"), input: { id: c.req.param("id") } });
      return c.json({ deleted: true });
    },
  )
  .get(
    "/api/admin/webhook-endpoints/:id/deliveries",
    apiDoc({
      summary: "An endpoint's delivery log, newest first",
      description:
        "Each delivery's status (`pending`, `delivered`, `failed`: given up on), last response code, times and attempts.",
      tag: "Webhooks",
      auth: "admin",
      params: { id: "The endpoint's id." },
      response: "WebhookDeliveries",
      errors: ["not_found"],
    }),
    async (c) => {
      const input = { id: c.req.param("id"), limit: Number(c.req.query("limit")) || 100 };
      return c.json({ deliveries: await listDeliveries({ ctx: c.get("ctx"), input }) });
    },
  )
  .post(
    "/api/admin/webhook-deliveries/:id/replay",
    apiDoc({
      summary: "Send a delivery again",
      description: "A new delivery of the same message (same `webhook-id` and body), due now.",
      tag: "Webhooks",
      auth: "admin",
      params: { id: "The delivery's id." },
      status: 201,
      response: "WebhookDelivery",
      errors: ["not_found"],
    }),
    async (c) =>
      c.json(await replayDelivery({ ctx: c.get("ctx"), input: { id: c.req.param("id") } }), 201),
  );
