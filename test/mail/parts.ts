import { expect } from "vitest";
import type { MailMessage } from "../../src/core/ports.ts";

/** A name a buyer or seller could type, with everything HTML must escape. */
export const NASTY = `<script>alert("x")</script> & Friends' "Kit"`;
export const NASTY_ESCAPED =
  "&#60;script&#62;alert(&#34;x&#34;)&#60;/script&#62; &#38; Friends&#39; &#34;Kit&#34;";
export const NASTY_FILE = "<img src=x onerror=alert(1)>.zip";

/** Every link target in an HTML part, with the escaping of attribute values undone. */
export function hrefs(html: string): string[] {
  return [...html.matchAll(/href="([^"]*)"/g)].map((m) =>
    (m[1] as string).replace(/&#(\d+);/g, (_, code) => String.fromCharCode(Number(code))),
  );
}

/** What every mail of the shop must be: a finished HTML part and a plain-text part, same links. */
export function expectWellFormed(mail: MailMessage, links: string[]) {
  expect(mail.html).toMatch(/^<!doctype html>/);
  expect(mail.html).toContain('role="presentation"');
  expect(mail.html).not.toMatch(/<script|<style|class="/i);
  // A hidden preheader comes first in the body, so inboxes show it after the subject.
  expect(mail.html).toMatch(/<body[^>]*>\s*<div style="display:none/);
  expect(mail.html).toContain("You got this email because");
  expect(mail.text).toContain("You got this email because");
  for (const link of links) {
    expect(mail.text).toContain(link);
    expect(hrefs(mail.html)).toContain(link);
    // The button's link is also written out, for clients that block buttons.
    expect(mail.html).toContain(`>${link.replaceAll("&", "&#38;")}</a>`);
  }
  for (const part of [mail.text, mail.html]) {
    expect(part).not.toMatch(/\/files\/|[?&]sig=|X-Amz-|r2\.cloudflarestorage/);
  }
}
