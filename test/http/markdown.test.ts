import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { markdownExcerpt, renderMarkdown, safeHref } from "../../src/pages/markdown.ts";
import { dialects } from "../support/databases.ts";
import { type Harness, makeHarness } from "../support/harness.ts";

const html = { accept: "text/html" };

const HOSTILE = [
  "# What you get",
  "",
  "Some **bold** text, a [good link](https://example.com/docs) and [mail](mailto:help@example.com).",
  "[evil](javascript:alert(1)) [evil2](JAVASCRIPT:alert(2)) [evil3](<java\tscript:alert(3)>)",
  "[data](data:text/html;base64,PHNjcmlwdD4=) [vb](vbscript:msgbox(1))",
  "<script>alert('raw')</script>",
  '<img src=x onerror="alert(4)"> <a href="javascript:alert(5)">raw link</a>',
  '![pic](javascript:alert(6) "t") ![ok](https://example.com/a.png)',
  "",
  '<div onclick="alert(7)">block html</div>',
  "",
  "- one",
  "- two",
].join("\n");

/** Issue 16, point 9: descriptions are Markdown, and nothing a seller types runs in a buyer's page. */
describe("the description's Markdown", () => {
  it("renders the formatting, and leaves script, raw HTML and unsafe links inert", () => {
    const out = renderMarkdown(HOSTILE);
    expect(out).toContain("<h2>What you get</h2>");
    expect(out).toContain("<strong>bold</strong>");
    expect(out).toContain(
      '<a href="https://example.com/docs" rel="nofollow noopener">good link</a>',
    );
    expect(out).toContain('<a href="mailto:help@example.com" rel="nofollow noopener">mail</a>');
    expect(out).toContain("<li>one</li>");
    // No tag or attribute the seller typed survives as markup.
    expect(out).not.toMatch(/<(script|img|div|iframe)\b|\son\w+="/i);
    expect(out).not.toMatch(/href="\s*(javascript|data|vbscript)/i);
    expect(out).not.toContain('href="javascript');
    expect(out).toContain("&lt;script&gt;alert(&#39;raw&#39;)&lt;/script&gt;");
    expect(out).toContain("&lt;div onclick=&quot;alert(7)&quot;&gt;block html&lt;/div&gt;");
    // An unsafe link keeps its words and loses its target; an image is a link, never embedded.
    expect(out).toContain("evil evil2 evil3");
    expect(out).toContain('<a href="https://example.com/a.png" rel="nofollow noopener">ok</a>');
    expect(out).not.toContain("alert(6)");
  });

  it("keeps http, https, mailto and relative links only", () => {
    expect(safeHref("https://x.test/a")).toBe("https://x.test/a");
    expect(safeHref("HTTP://x.test")).toBe("HTTP://x.test");
    expect(safeHref("mailto:a@b.test")).toBe("mailto:a@b.test");
    expect(safeHref("/p/kit")).toBe("/p/kit");
    for (const bad of [
      "javascript:alert(1)",
      " javascript:x",
      "java\tscript:x",
      "data:x",
      "file:///etc",
    ])
      expect(safeHref(bad)).toBeNull();
  });

  it("makes a plain-text excerpt for the store's cards", () => {
    expect(
      markdownExcerpt("# Title\n\n**Bold** and [a link](https://x.test) <b>tag</b> & more"),
    ).toBe("Title Bold and a link tag & more");
    const long = markdownExcerpt("word ".repeat(100));
    expect(long.length).toBeLessThanOrEqual(161);
    expect(long.endsWith("word…")).toBe(true);
  });
});

describe.each(dialects)("descriptions in the pages on %s", (dialect) => {
  let h: Harness;
  beforeAll(async () => {
    h = await makeHarness(dialect);
  });
  afterAll(() => h.close());

  it("the product page shows it formatted and safe; the store card a plain excerpt", async () => {
    const { slug } = await h.productOnSale({ name: "Marked Kit", description: HOSTILE });
    const page = await (await h.request(`/p/${slug}`, { headers: html })).text();
    const description = page.slice(page.indexOf('<div class="prose">'));
    expect(description).toContain("<h2>What you get</h2>");
    expect(description).toContain('<a href="https://example.com/docs" rel="nofollow noopener">');
    expect(page).not.toMatch(/<script>alert|<img src=x|\son\w+="|href="javascript/i);
    expect(description).toContain("&lt;img src=x onerror=&quot;alert(4)&quot;&gt;");

    const store = await (await h.request("/", { headers: html })).text();
    expect(store).toContain(
      '<p class="muted">What you get Some bold text, a good link and mail. evil evil2',
    );
    expect(store).not.toContain("**bold**");
  });

  it("the editor says Markdown works and previews what was typed without saving it", async () => {
    const owner = await h.signIn("owner@shop.test");
    const { slug } = await h.productOnSale({ name: "Preview Kit", description: "old" });
    const editor = await (
      await h.request(`/admin/products/${slug}`, { headers: html, cookie: owner })
    ).text();
    expect(editor).toContain("Markdown works");
    const preview = await h.request(`/admin/products/${slug}`, {
      method: "POST",
      cookie: owner,
      headers: {
        ...html,
        "content-type": "application/x-www-form-urlencoded",
        origin: "http://shop.test",
      },
      body: new URLSearchParams({
        name: "Preview Kit",
        description: "## New\n\n*fresh* <script>x()</script>",
        price: "19.00",
        intent: "preview",
      }).toString(),
    });
    expect(preview.status).toBe(200);
    const text = await preview.text();
    expect(text).toContain("Preview: the description as buyers will see it");
    expect(text).toContain("<h3>New</h3>");
    expect(text).toContain("<em>fresh</em> &lt;script&gt;x()&lt;/script&gt;");
    const saved = (await (await h.admin(`/api/admin/products/${slug}`)).json()) as {
      description: string;
    };
    expect(saved.description).toBe("old");
  });
});
