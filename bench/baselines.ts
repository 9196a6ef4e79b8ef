/**
 * What each benchmark compares the app against, served by the same process: a bare Hono 302, a
 * webhook receiver that only stores the raw body in one durable transaction, and Node piping a
 * stored file in 1 MiB chunks.
 */
import { randomUUID } from "node:crypto";
import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import type { ServerResponse } from "node:http";
import { join } from "node:path";
import { Hono } from "hono";
import { sql } from "kysely";
import type { Db } from "../src/db/schema.ts";

const SIGNED_URL =
  "https://bucket.s3.us-east-1.amazonaws.com/products/p/a?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Signature=0";

export async function baselineApp(db: Db): Promise<Hono> {
  await sql`drop table if exists bench_raw_events`.execute(db);
  await sql`create table bench_raw_events (id varchar(64) primary key, body text not null, received_at bigint not null)`.execute(
    db,
  );
  return (
    new Hono()
      .get("/__bench/redirect", (c) => c.redirect(SIGNED_URL, 302))
      // What any JSON call costs before the app does anything: the body read, parsed and echoed.
      .post("/__bench/echo", async (c) => c.json(await c.req.json()))
      .post("/__bench/webhook", async (c) => {
        const body = await c.req.text();
        await db
          .transaction()
          .execute((trx) =>
            sql`insert into bench_raw_events (id, body, received_at) values (${randomUUID()}, ${body}, ${Date.now()})`.execute(
              trx,
            ),
          );
        return c.json({ received: true });
      })
  );
}

/** `/__bench/pipe/<storage key>`: the stored file as Node would send it, 1 MiB at a time. */
export async function pipeFile(root: string, url: string, res: ServerResponse): Promise<void> {
  const key = url.slice("/__bench/pipe/".length);
  if (!/^[\w-]+(\/[\w-]+)*$/.test(key)) return void res.writeHead(400).end();
  const path = join(root, ...key.split("/"));
  const { size } = await stat(path);
  res.writeHead(200, { "content-type": "application/octet-stream", "content-length": size });
  createReadStream(path, { highWaterMark: 1024 * 1024 }).pipe(res);
}
