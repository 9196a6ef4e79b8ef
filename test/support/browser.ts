import { existsSync, mkdirSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import { type Browser, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll } from "vitest";
import { type RunningServer, startServer } from "./server.ts";

/** Debian's chromium, never a downloaded browser. Tests skip themselves where it is missing. */
export const CHROMIUM = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].find((p) =>
  existsSync(p),
);

export const ARTIFACTS = resolve(import.meta.dirname, "../artifacts");

export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM as string,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}

/** Saves a screenshot of a key page as a test artifact (test/artifacts/, ignored by git). */
export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: resolve(ARTIFACTS, `${name}.png`), fullPage: true });
}

/** Signs in the way a person does offline: ask for a link, open it from /dev/outbox. */
export async function signInFromOutbox(page: Page, baseUrl: string, email: string): Promise<void> {
  if (!page.url().includes("/auth/login")) await page.goto(`${baseUrl}/auth/login`);
  await page.getByLabel("Email").fill(email);
  await page.getByRole("button", { name: "Email me a sign-in link" }).click();
  await page.getByText("Check your email").waitFor();
  const outbox = await page.context().newPage();
  await outbox.goto(`${baseUrl}/dev/outbox`);
  const text = (await outbox.locator("pre").first().textContent()) ?? "";
  await outbox.close();
  const link = text.match(/http\S+\/auth\/callback\?token=\S+/)?.[0];
  if (!link) throw new Error(`no sign-in link for ${email} in the outbox`);
  await page.goto(link);
}

/** A real `tollgate serve` and a Chromium for one describe block, both stopped after it. */
export function useServerAndBrowser(args: string[] = ["--demo"], env: Record<string, string> = {}) {
  const running = {} as { server: RunningServer; browser: Browser };
  beforeAll(async () => {
    running.server = await startServer(args, env);
    running.browser = await launchBrowser();
  });
  afterAll(async () => {
    await running.browser?.close();
    await running.server?.stop();
  });
  return running;
}

/** Clicks a download link and waits for the file: its suggested name and its bytes. */
export async function downloadFrom(
  page: Page,
  linkName: string,
): Promise<{ filename: string; bytes: Buffer }> {
  const [download] = await Promise.all([
    page.waitForEvent("download"),
    page.getByRole("link", { name: linkName }).click(),
  ]);
  return {
    filename: download.suggestedFilename(),
    bytes: await readFile((await download.path()) as string),
  };
}

/** The sha256 the server logged when `--demo` seeded the starter kit's file. */
export function demoFileSha256(serverOutput: string): string | undefined {
  return /file uploaded product=starter-kit .*sha256=([0-9a-f]{64})/.exec(serverOutput)?.[1];
}
