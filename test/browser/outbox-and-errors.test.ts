import Database from "better-sqlite3";
import type { BrowserContext, Page, Response } from "playwright-core";
import { describe, expect, it } from "vitest";
import { accessibilityViolations } from "../support/axe.ts";
import { CHROMIUM, screenshot, useServerAndBrowser } from "../support/browser.ts";
import { cli } from "../support/cli.ts";
import { PATIENCE_MS } from "../support/patience.ts";

/** What a page must be at this width: no axe violation, and nothing wider than the screen. */
async function fitsAndAxeClean(page: Page, name: string) {
  expect(await accessibilityViolations(page), `${name}: WCAG 2 AA`).toEqual([]);
  const { pageWidth, viewport } = await page.evaluate(() => ({
    pageWidth: document.documentElement.scrollWidth,
    viewport: window.innerWidth,
  }));
  expect(pageWidth, `${name}: fits ${viewport} px`).toBeLessThanOrEqual(viewport);
}

/** The newest sign-in mail to `email` in /dev/outbox, read in a tab of its own: its link and code. */
async function signInMail(context: BrowserContext, baseUrl: string, email: string) {
  const outbox = await context.newPage();
  await outbox.goto(`${baseUrl}/dev/outbox`);
  const text =
    (await outbox
      .locator("article.mail", { hasText: `To ${email}` })
      .filter({ hasText: "Your sign-in link" })
      .first()
      .locator("pre")
      .textContent()) ?? "";
  await outbox.close();
  const link = /http\S+\/auth\/callback\?token=\S+/.exec(text)?.[0];
  const code = /sign-in page: (\d{6})/.exec(text)?.[1];
  if (!link || !code) throw new Error(`no sign-in mail for ${email} in the outbox`);
  return { link, code };
}

/** Asks for a sign-in link on the sign-in page, as a person does, up to "Check your email". */
async function askForSignIn(page: Page, baseUrl: string, email: string) {
  await page.goto(`${baseUrl}/auth/login`);
  await page.getByLabel("Email").fill(email);
  await page.getByRole("button", { name: "Email me a sign-in link" }).click();
  await page.getByRole("heading", { name: "Check your email" }).waitFor();
}

/** Waits for the answer to the form post that `act` sends to `path`. */
async function posting(page: Page, path: string, act: () => Promise<void>): Promise<Response> {
  const [response] = await Promise.all([
    page.waitForResponse(
      (r) => r.request().method() === "POST" && new URL(r.url()).pathname === path,
    ),
    act(),
  ]);
  return response;
}

/**
 * An error page as a person reads it: the card's first element, its message, its buttons and
 * the last line (the status and the request's reference), with the font sizes of the two.
 */
async function errorPage(page: Page) {
  return page.locator("main [role=alert]").evaluate((card) => {
    const kids = [...card.children] as HTMLElement[];
    const first = kids[0] as HTMLElement;
    const message = kids[1] as HTMLElement;
    const last = kids.at(-1) as HTMLElement;
    return {
      firstTag: first.tagName,
      title: first.innerText.trim(),
      message: message.innerText.trim(),
      steps: [...card.querySelectorAll("a.btn")].map((a) => ({
        label: (a as HTMLElement).innerText.trim(),
        href: a.getAttribute("href"),
      })),
      smallPrint: last.innerText.trim(),
      smallPrintSize: Number.parseFloat(getComputedStyle(last).fontSize),
      messageSize: Number.parseFloat(getComputedStyle(message).fontSize),
    };
  });
}

type ErrorFacts = Awaited<ReturnType<typeof errorPage>>;

/** Leads with what happened (a heading with no status number), ends with status and reference. */
function expectLeadsWithWhatHappened(facts: ErrorFacts, status: number, name: string) {
  expect(facts.firstTag, `${name}: starts with its heading`).toBe("H1");
  expect(facts.title, `${name}: heading without the status`).not.toMatch(/\d{3}/);
  expect(facts.message.length, `${name}: says what happened`).toBeGreaterThan(20);
  expect(facts.steps.length, `${name}: offers a next step`).toBeGreaterThan(0);
  expect(facts.smallPrint, `${name}: status and reference last`).toMatch(
    new RegExp(`^Error ${status}\\. .*reference \\S+\\.$`),
  );
  // Decision 0016: the status and reference come last, in small print.
  expect(facts.smallPrintSize, `${name}: status and reference in small print`).toBeLessThan(
    facts.messageSize,
  );
}

/**
 * Issue 16, points 4 and 5, in a real Chromium against `tollgate serve --demo`, at a desktop's
 * and a phone's width, every page axe clean and as wide as the screen at most:
 * - the dev outbox: "Check your email" points to it on a shop that runs offline, seen from its
 *   machine; each mail's HTML is in a frame sandboxed from scripts and from the page, its plain
 *   text under it, its time in the reader's zone; the mail's sign-in button opens a new tab that
 *   signs the visitor in;
 * - the pages after an error: a wrong code comes back as the code form with the reason and the
 *   address, and the right code then works; an expired or spent sign-in link gives the reason and
 *   the form to ask for a new one; unknown and tampered download links get one and the same page
 *   with a way to a fresh link; a download of a product the buyer does not own leads to its
 *   page, where it can be bought. Error pages lead with what happened, status and reference last.
 */
describe.skipIf(!CHROMIUM)("the dev outbox and the pages after an error, in a real browser", () => {
  const t = useServerAndBrowser(["--demo"]);

  for (const width of [1280, 375]) {
    it(`at ${width} px: the outbox shows each mail as it will look, in the reader's time, and its link signs in`, async () => {
      const email = `outbox-${width}@example.com`;
      const context = await t.browser.newContext({
        viewport: { width, height: 900 },
        timezoneId: "Asia/Tokyo",
        locale: "en-US",
      });
      const page = await context.newPage();
      page.setDefaultTimeout(PATIENCE_MS);

      // "Check your email" says where the mail is: this shop runs offline, and this is its machine.
      await askForSignIn(page, t.server.url, email);
      expect(await page.getByRole("status").innerText()).toContain(
        `We sent a sign-in link to ${email}.`,
      );
      const hint = page.locator("main p.notice", { hasText: "This shop runs offline" });
      expect(await hint.innerText()).toContain("no mail leaves this machine");
      const toOutbox = hint.getByRole("link", { name: "Open the outbox" });
      expect(await toOutbox.getAttribute("href")).toBe("/dev/outbox");
      await fitsAndAxeClean(page, "check your email");
      await screenshot(page, `outbox-and-errors-${width}-check-your-email-offline`);

      await toOutbox.click();
      await page.getByRole("heading", { name: "Outbox", level: 1 }).waitFor();
      const mail = page
        .locator("article.mail", { hasText: `To ${email}` })
        .filter({ hasText: "Your sign-in link" });
      await expect.poll(() => mail.count()).toBe(1);

      // Every mail's HTML is in a frame that runs no script and cannot reach the page.
      const articles = page.locator("article.mail");
      const frames = await articles.evaluateAll((all) =>
        all.map((article) => {
          const frame = article.querySelector("iframe");
          return {
            sandbox: frame?.getAttribute("sandbox")?.split(/\s+/) ?? null,
            hasHtml: (frame?.getAttribute("srcdoc") ?? "").includes("<"),
            reachable: frame ? frame.contentDocument !== null : null,
          };
        }),
      );
      expect(frames.length).toBeGreaterThan(0);
      for (const frame of frames) {
        expect(frame.sandbox, "sandboxed").not.toBeNull();
        expect(frame.sandbox).not.toContain("allow-scripts");
        expect(frame.sandbox).not.toContain("allow-same-origin");
        expect(frame.hasHtml, "the mail's HTML").toBe(true);
        expect(frame.reachable, "the page cannot reach into the mail").toBe(false);
      }
      const html = mail.frameLocator("iframe");
      const button = html.getByRole("link", { name: "Sign in" });
      await button.waitFor();
      const { link, code } = await signInMail(context, t.server.url, email);
      expect(await button.getAttribute("href")).toBe(link);
      expect(await html.locator("strong", { hasText: code }).count()).toBe(1);

      // The plain text is there too, under the HTML.
      const plain = mail.locator("details pre");
      expect(await plain.isVisible()).toBe(false);
      await mail.getByText("Plain text", { exact: true }).click();
      await plain.waitFor({ state: "visible" });
      const text = (await plain.innerText()) ?? "";
      expect(text).toContain(link);
      expect(text).toContain(`Or enter this code on the sign-in page: ${code}`);

      // The time is the reader's (Tokyo, UTC+9), not the UTC the server writes.
      const time = mail.locator("time");
      const iso = (await time.getAttribute("datetime")) as string;
      expect(Number.isNaN(Date.parse(iso))).toBe(false);
      await expect
        .poll(() => time.getAttribute("title"))
        .toBe(`${new Date(iso).toISOString().slice(0, 16).replace("T", " ")} UTC`);
      const shown = (await time.innerText()).trim();
      const expected = await page.evaluate((at) => {
        const format = (timeZone: string) =>
          new Intl.DateTimeFormat(undefined, {
            dateStyle: "medium",
            timeStyle: "short",
            timeZone,
          }).format(new Date(at));
        return {
          zone: Intl.DateTimeFormat().resolvedOptions().timeZone,
          tokyo: format("Asia/Tokyo"),
          utc: format("UTC"),
        };
      }, iso);
      expect(expected.zone).toBe("Asia/Tokyo");
      expect(shown).toBe(expected.tokyo);
      expect(shown).not.toBe(expected.utc);
      expect(shown).not.toContain("UTC");
      expect(shown).not.toContain(iso.slice(0, 10));
      await fitsAndAxeClean(page, "outbox");
      await screenshot(page, `outbox-and-errors-${width}-outbox`);

      // The mail's button opens a new tab, as from a webmail, and it signs the visitor in.
      const [tab] = await Promise.all([context.waitForEvent("page"), button.click()]);
      tab.setDefaultTimeout(PATIENCE_MS);
      await tab.getByRole("heading", { name: "Your library" }).waitFor();
      expect(new URL(tab.url()).pathname).toBe("/library");
      await tab
        .locator("header.site")
        .getByRole("button", { name: /^Sign out/ })
        .waitFor();
      expect(await tab.locator("header.site").innerText()).not.toMatch(/^Sign in$/m);
      await fitsAndAxeClean(tab, "library after the mail's link");
      await context.close();
    });

    it(`at ${width} px: after an error the page says what happened and offers the next step`, async () => {
      const context = await t.browser.newContext({ viewport: { width, height: 900 } });
      const page = await context.newPage();
      page.setDefaultTimeout(PATIENCE_MS);

      // A wrong code: the code form again, with the reason and the address, not a bare 400.
      const coder = `coder-${width}@example.com`;
      await askForSignIn(page, t.server.url, coder);
      const { code } = await signInMail(context, t.server.url, coder);
      const wrong = code === "000000" ? "111111" : "000000";
      await page.getByLabel("Or enter the 6-digit code from the email").fill(wrong);
      const refused = await posting(page, "/auth/code", () =>
        page.getByRole("button", { name: "Sign in with code" }).click(),
      );
      expect(refused.status()).toBe(400);
      await page.getByRole("heading", { name: "Check your email" }).waitFor();
      expect(await page.getByRole("alert").innerText()).toBe(
        "That code is not right. Check the latest sign-in email and try again.",
      );
      expect(await page.getByText("That did not work").count()).toBe(0);
      // The page still says where the code went.
      expect(await page.locator("main").innerText()).toContain(
        `The link and the code are in the mail we sent to ${coder}.`,
      );
      const codeForm = page.locator("form[action='/auth/code']");
      expect(await codeForm.locator("input[name=email]").inputValue()).toBe(coder);
      const codeField = page.getByLabel("Or enter the 6-digit code from the email");
      await codeField.waitFor();
      await page.getByRole("button", { name: "Send a new link and code" }).waitFor();
      await fitsAndAxeClean(page, "wrong code");
      await screenshot(page, `outbox-and-errors-${width}-sign-in-wrong-code`);
      // The right code, on the same page, signs in.
      await codeField.fill(code);
      const accepted = await posting(page, "/auth/code", () =>
        page.getByRole("button", { name: "Sign in with code" }).click(),
      );
      expect(accepted.status()).toBe(303);
      await page.getByRole("heading", { name: "Your library" }).waitFor();
      await page
        .locator("header.site")
        .getByRole("button", { name: /^Sign out/ })
        .waitFor();
      await context.clearCookies();

      // An expired sign-in link and a spent one: the reason, and the form for a new link.
      const late = `late-${width}@example.com`;
      await askForSignIn(page, t.server.url, late);
      const expiring = await signInMail(context, t.server.url, late);
      const db = new Database(t.server.env.DATABASE_URL?.replace(/^sqlite:/, "") as string);
      db.pragma("busy_timeout = 5000");
      db.prepare("update login_tokens set expires_at = ? where email = ?").run(
        Date.now() - 60_000,
        late,
      );
      db.close();
      const signInAgain = async (link: string, name: string) => {
        const opened = await page.goto(link);
        expect(opened?.status(), `${name}: status`).toBe(410);
        await page.getByRole("heading", { name: "Sign in", level: 1 }).waitFor();
        const reason = await page.getByRole("alert").innerText();
        expect(reason).toBe(
          "This sign-in link has expired or was already used. Request a new one.",
        );
        await page.getByRole("button", { name: "Email me a sign-in link" }).waitFor();
        await fitsAndAxeClean(page, name);
        return reason;
      };
      const expiredReason = await signInAgain(expiring.link, "expired sign-in link");
      await screenshot(page, `outbox-and-errors-${width}-sign-in-link-expired`);
      // A new link from that same page, and it works.
      await page.getByLabel("Email").fill(late);
      await page.getByRole("button", { name: "Email me a sign-in link" }).click();
      await page.getByRole("heading", { name: "Check your email" }).waitFor();
      const fresh = await signInMail(context, t.server.url, late);
      expect(fresh.link).not.toBe(expiring.link);
      await page.goto(fresh.link);
      await page.getByRole("heading", { name: "Your library" }).waitFor();
      // Opened again, the spent link gets the same answer as the expired one.
      await context.clearCookies();
      expect(await signInAgain(fresh.link, "spent sign-in link")).toBe(expiredReason);

      // Unknown and tampered download links: one and the same page, with a way to a fresh link.
      const owner = `owner-${width}@example.com`;
      expect((await cli(["grant", owner, "starter-kit"], t.server.env)).code).toBe(0);
      const made = await cli(["token", owner, "starter-kit", "--expires", "24h"], t.server.env);
      expect(made.code, made.stderr).toBe(0);
      const token = /\/d\/(tgd_[\w-]{43})/.exec(made.stdout)?.[1] as string;
      expect(token).toBeDefined();
      const tampered = `${token.slice(0, -1)}${token.endsWith("A") ? "B" : "A"}`;
      const seen: ErrorFacts[] = [];
      for (const [name, path] of [
        ["unknown download link", "/d/tgd_something"],
        ["tampered download link", `/d/${tampered}`],
      ] as const) {
        const opened = await page.goto(`${t.server.url}${path}`);
        expect(opened?.status(), `${name}: status`).toBe(410);
        const facts = await errorPage(page);
        expectLeadsWithWhatHappened(facts, 410, name);
        expect(facts.title).toBe("This link is no longer valid");
        expect(facts.message).toContain("This download link has expired or is not valid.");
        expect(facts.steps).toContainEqual({
          label: "Sign in for a fresh link",
          href: "/auth/login?next=/library",
        });
        expect(await page.getByRole("link", { name: /^Download / }).count()).toBe(0);
        await fitsAndAxeClean(page, name);
        seen.push(facts);
      }
      await screenshot(page, `outbox-and-errors-${width}-download-link-invalid`);
      const same = (f: ErrorFacts) => ({ ...f, smallPrint: f.smallPrint.replace(/\S+\.$/, "") });
      expect(same(seen[1] as ErrorFacts), "unknown and tampered get one answer").toEqual(
        same(seen[0] as ErrorFacts),
      );
      // Its first step leads to the sign-in form, which comes back to the library.
      await page.getByRole("link", { name: "Sign in for a fresh link" }).click();
      await page.getByRole("heading", { name: "Sign in", level: 1 }).waitFor();
      expect(await page.locator("input[name=next]").inputValue()).toBe("/library");

      // A signed-in buyer opening a file of a product they do not own: a way to buy it.
      const tokenPage = await page.request.get(`${t.server.url}/d/${token}`);
      const tokenText = await tokenPage.text();
      const assetId = /\/d\/[^/"]+\/(ast_[\w-]+)/.exec(tokenText)?.[1];
      // Ids are base64url: "-" and "_" included, even first (a run whose id began with "-" failed).
      expect(assetId, `${tokenPage.status()} ${tokenText.slice(0, 2000)}`).toBeDefined();
      const stranger = `stranger-${width}@example.com`;
      await askForSignIn(page, t.server.url, stranger);
      await page.goto((await signInMail(context, t.server.url, stranger)).link);
      await page.getByRole("heading", { name: "Your library" }).waitFor();
      const denied = await page.goto(`${t.server.url}/download/starter-kit/${assetId}`);
      expect(denied?.status()).toBe(403);
      const facts = await errorPage(page);
      expectLeadsWithWhatHappened(facts, 403, "not owned");
      expect(facts.title).toBe("No access");
      expect(facts.steps[0]).toEqual({
        label: "See the product and buy it",
        href: "/p/starter-kit",
      });
      await fitsAndAxeClean(page, "not owned");
      await screenshot(page, `outbox-and-errors-${width}-download-not-owned`);
      await page.getByRole("link", { name: "See the product and buy it" }).click();
      await page.getByRole("heading", { name: "Starter Kit (demo)", level: 1 }).waitFor();
      await page.getByRole("button", { name: "Buy now" }).waitFor();
      await fitsAndAxeClean(page, "product page after 403");
      await context.close();
    });
  }
});
