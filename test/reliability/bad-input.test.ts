import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stripePayments } from "../../src/adapters/stripe/index.ts";
import { AppError } from "../../src/core/errors.ts";
import { type Harness, makeHarness, WEBHOOK_SECRET } from "../support/harness.ts";
import { signature } from "../support/stripe.ts";

/**
 * Property tests of what the outside world sends, through the real app (and the real Stripe
 * adapter for signatures): Range headers, file names in headers, download tokens, admin tokens,
 * session cookies and Stripe-Signature headers. Each bad input gets a clear 4xx and nothing
 * else; the unit tests in test/unit cover the parsers themselves.
 */
describe("bad input through the app (properties)", () => {
  let h: Harness;
  const content = Array.from({ length: 1000 }, (_, i) => String.fromCharCode(97 + (i % 26))).join(
    "",
  );
  let token: string;
  let assetId: string;
  let slug: string;
  beforeAll(async () => {
    h = await makeHarness("sqlite", { DELIVERY_MODE: "proxy" });
    const owned = await h.ownedProduct("ranges@example.com", content);
    assetId = owned.asset.id;
    slug = owned.product.slug;
    ({ token } = await h.token({ email: "ranges@example.com", product: slug, maxUses: null }));
  });
  afterAll(() => h.close());

  const rangeHeader = fc.oneof(
    fc
      .tuple(
        fc.oneof(
          fc.constant(""),
          fc.nat({ max: 1200 }).map(String),
          fc.constant("99999999999999999999"),
        ),
        fc.oneof(fc.constant(""), fc.nat({ max: 1200 }).map(String)),
      )
      .map(([a, b]) => `bytes=${a}-${b}`),
    fc.constantFrom(
      "bytes=0-1,5-6",
      "bytes=--1",
      "items=0-1",
      "bytes=1.5-2",
      "bytes = 3 - 9",
      "BYTES=0-0",
    ),
    fc.string({ maxLength: 30 }).filter((s) => !/[\r\n\0]/.test(s)),
  );

  it("any Range header: the whole file, the exact bytes asked for, or 416; never an error", async () => {
    await fc.assert(
      fc.asyncProperty(rangeHeader, async (range) => {
        const res = await h.request(`/d/${token}/${assetId}`, { headers: { range } });
        const body = await res.text();
        expect([200, 206, 416]).toContain(res.status);
        if (res.status === 200) expect(body).toBe(content);
        if (res.status === 416)
          expect(res.headers.get("content-range")).toBe(`bytes */${content.length}`);
        if (res.status === 206) {
          const m = /^bytes (\d+)-(\d+)\/(\d+)$/.exec(res.headers.get("content-range") ?? "");
          expect(m).not.toBeNull();
          const [start, end, size] = (m as RegExpExecArray).slice(1).map(Number) as number[];
          expect(size).toBe(content.length);
          expect(body).toBe(content.slice(start, (end as number) + 1));
          expect(res.headers.get("content-length")).toBe(String(body.length));
        }
      }),
      { numRuns: 300 },
    );
  });

  it("any file name a seller gives: stored sanitised or refused in words; its download header holds it safely", async () => {
    const name = fc.string({
      unit: fc.oneof(
        fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)),
        fc.constantFrom("/", "\\", ".", '"', ";", "%", "\r", "\n", " ", "😀", "é", "a"),
      ),
      maxLength: 60,
    });
    await fc.assert(
      fc.asyncProperty(name, async (filename) => {
        // A URL carries UTF-8: a lone surrogate cannot be sent at all.
        fc.pre(
          !/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(filename),
        );
        const res = await h.admin(
          `/api/admin/products/${slug}/assets?filename=${encodeURIComponent(filename)}`,
          { method: "POST", body: "named bytes" },
        );
        const answer = await res.json();
        if (res.status === 400) {
          expect(answer.message).toMatch(/file name|filename/i);
          return;
        }
        expect(res.status).toBe(201);
        // biome-ignore lint/suspicious/noControlCharactersInRegex: they must not be in the name
        expect(answer.filename).not.toMatch(/[/\\\u0000-\u001f\u007f]/);
        const file = await h.request(`/d/${token}/${answer.id}`);
        expect(file.status).toBe(200);
        expect(await file.text()).toBe("named bytes");
        const disposition = file.headers.get("content-disposition") ?? "";
        const m =
          /^attachment; filename="([\x20-\x7e]*)"; filename\*=UTF-8''([A-Za-z0-9%!#$&+\-.^_`|~]+)$/.exec(
            disposition,
          );
        expect(m, disposition).not.toBeNull();
        expect(decodeURIComponent((m as RegExpExecArray)[2] as string)).toBe(answer.filename);
        await h.admin(`/api/admin/assets/${answer.id}`, {
          method: "PATCH",
          json: { active: false },
        });
      }),
      { numRuns: 120 },
    );
  });

  it("any download token in a link: the same 410 for every one that is not real, never an error", async () => {
    const tokenText = fc.oneof(
      fc.string({ minLength: 1, maxLength: 80 }),
      fc.string({ unit: "binary", minLength: 1, maxLength: 30 }),
      fc.stringMatching(/^tgd_[A-Za-z0-9_-]{43}$/),
      fc.stringMatching(/^tgd_[A-Za-z0-9_-]{0,60}$/),
      fc
        .constant(token)
        .chain((t) =>
          fc
            .nat({ max: t.length - 1 })
            .map((i) => `${t.slice(0, i)}${t[i] === "A" ? "B" : "A"}${t.slice(i + 1)}`),
        ),
    );
    const answers = new Set<string>();
    await fc.assert(
      fc.asyncProperty(tokenText, fc.boolean(), async (raw, withFile) => {
        fc.pre(raw !== token && raw !== "." && raw !== "..");
        const path = `/d/${encodeURIComponent(raw)}${withFile ? `/${assetId}` : ""}`;
        const res = await h.request(path);
        const body = await res.json();
        expect(res.status, path).toBe(410);
        answers.add(`${body.code}: ${body.message}`);
        expect(res.headers.get("referrer-policy")).toBe("no-referrer");
      }),
      { numRuns: 400 },
    );
    expect([...answers]).toEqual([
      "gone: This download link has expired or is not valid. Ask for a fresh link, or sign in to your library.",
    ]);
  });

  it("any Authorization header or session cookie: signed out or refused, never an error or a way in", async () => {
    const headerValue = fc
      .string({ maxLength: 120 })
      .map((s) => s.replace(/[\r\n\0]/g, " ").trim());
    const auth = fc.oneof(
      headerValue,
      headerValue.map((s) => `Bearer ${s}`),
      fc.stringMatching(/^[A-Za-z0-9_-]{20,40}$/).map((s) => `Bearer ${s}`),
    );
    const cookie = fc.oneof(
      headerValue,
      headerValue.map((s) => `tg_session=${s}`),
      fc.stringMatching(/^[A-Za-z0-9_-]{43}$/).map((s) => `tg_session=${s}; other=1`),
    );
    await fc.assert(
      fc.asyncProperty(auth, cookie, async (authorization, cookieHeader) => {
        const headers = { authorization, cookie: cookieHeader };
        const admin = await h.request("/api/admin/orders", { headers });
        expect([401, 403]).toContain(admin.status);
        expect((await admin.json()).code).toMatch(/^(unauthenticated|forbidden)$/);
        const library = await h.request("/api/library", { headers });
        expect(library.status).toBe(401);
        await library.arrayBuffer();
      }),
      { numRuns: 300 },
    );
  });
});

describe.each(["node", "workers"] as const)(
  "Stripe-Signature headers, %s check (properties)",
  (runtime) => {
    const payments = stripePayments({
      secretKey: "sk_test_x",
      webhookSecret: WEBHOOK_SECRET,
      runtime,
    });
    const body = JSON.stringify({
      id: "evt_prop",
      object: "event",
      type: "customer.created",
      livemode: false,
      created: 1,
      data: { object: { id: "cus_1", object: "customer" } },
    });
    const now = Date.now();
    const verify = (header: string) => payments.events.verify(body, header, now);

    async function refusal(header: string): Promise<AppError> {
      try {
        await verify(header);
      } catch (error) {
        expect(error).toBeInstanceOf(AppError);
        return error as AppError;
      }
      throw new Error(`accepted ${JSON.stringify(header)}`);
    }

    it("any header but a right one is refused as invalid input, never crashes or passes", async () => {
      const element = fc.oneof(
        fc.string({ maxLength: 30 }),
        fc
          .tuple(fc.constantFrom("t", "v1", "v0", "x", ""), fc.string({ maxLength: 70 }))
          .map(([k, v]) => `${k}=${v}`),
        fc.stringMatching(/^[0-9a-f]{64}$/).map((h) => `v1=${h}`),
        fc.integer({ min: 0, max: 2 ** 40 }).map((t) => `t=${t}`),
      );
      await fc.assert(
        fc.asyncProperty(fc.array(element, { maxLength: 6 }), async (parts) => {
          const error = await refusal(parts.join(","));
          expect(error.code).toBe("invalid_input");
          expect(error.message).toMatch(/signature|Stripe-Signature/i);
        }),
        { numRuns: 500 },
      );
    });

    it("a right signature passes among any other elements; any change to it is refused", async () => {
      const right = signature(body, { timestamp: Math.floor(now / 1000) });
      const v1 = /v1=([0-9a-f]{64})/.exec(right)?.[1] as string;
      const t = /t=(\d+)/.exec(right)?.[1] as string;
      const junk = fc.array(
        fc.oneof(
          fc.stringMatching(/^v0=[0-9a-f]{0,64}$/),
          fc.stringMatching(/^v1=[0-9a-f]{64}$/),
          // Another t= would be a second timestamp: Stripe reads the last one.
          fc.stringMatching(/^[a-su-z][a-z]{0,3}=[a-z0-9]{0,10}$/),
        ),
        { maxLength: 4 },
      );
      await fc.assert(
        fc.asyncProperty(
          junk,
          junk,
          fc.nat({ max: 63 }),
          fc.constantFrom(..."0123456789abcdef"),
          async (before, after, at, digit) => {
            const elements = [...before, `t=${t}`, `v1=${v1}`, ...after];
            expect((await verify(elements.join(","))).id).toBe("evt_prop");
            fc.pre(digit !== v1[at]);
            const changed = `${v1.slice(0, at)}${digit}${v1.slice(at + 1)}`;
            const forged = [
              ...before.filter((e) => !e.startsWith("v1=")),
              `t=${t}`,
              `v1=${changed}`,
            ];
            expect((await refusal(forged.join(","))).code).toBe("invalid_input");
          },
        ),
        { numRuns: 300 },
      );
    });
  },
);
