/**
 * A product's description is Markdown, written by the seller and shown to buyers. It is rendered
 * with `marked` (CommonMark and GitHub's tables, lists and strikethrough; line breaks kept as
 * typed, as the plain descriptions written before showed them) and made safe here, not by a
 * sanitizer after the fact:
 * - raw HTML is off: a tag typed in the text shows as text (`<script>` is just those characters);
 * - a link keeps its target only for http:, https: and mailto: (or a relative address), and
 *   carries rel="nofollow noopener"; any other scheme (javascript:, data:, vbscript:...) leaves
 *   the link's text alone, unlinked;
 * - images are not embedded (the pages load nothing from other sites, and a buyer's address is
 *   nobody's business): an image becomes a link to it, named by its alt text;
 * - headings start one level down (a `#` is an h2), under the product's own h1;
 * - task-list boxes are text (☐, ☑), not disabled form fields without labels.
 * Every attribute value and every piece of text is escaped by marked or by this file.
 */
import { Marked, type Token, type Tokens } from "marked";

const SAFE_SCHEMES = new Set(["http", "https", "mailto"]);

/** The link target to keep, or null when its scheme is not one a description may use. */
export function safeHref(href: string): string | null {
  // Browsers ignore ASCII control characters and spaces in a URL's scheme ("java\tscript:").
  // biome-ignore lint/suspicious/noControlCharactersInRegex: removing them is the point
  const cleaned = href.replace(/[\u0000-\u0020\u007f]+/g, "");
  if (!cleaned) return null;
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(cleaned)?.[1];
  if (scheme === undefined) return cleaned;
  return SAFE_SCHEMES.has(scheme.toLowerCase()) ? cleaned : null;
}

const escapeHtml = (text: string) =>
  text
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&#39;");

const markdown = new Marked({
  gfm: true,
  breaks: true,
  async: false,
  renderer: {
    html({ text }) {
      return escapeHtml(text);
    },
    link({ href, title, tokens }) {
      const inner = this.parser.parseInline(tokens);
      const target = safeHref(href);
      if (target === null) return inner;
      const titled = title ? ` title="${escapeHtml(title)}"` : "";
      return `<a href="${escapeHtml(target)}"${titled} rel="nofollow noopener">${inner}</a>`;
    },
    image({ href, text }) {
      const target = safeHref(href);
      const label = escapeHtml(text || "image");
      return target === null
        ? label
        : `<a href="${escapeHtml(target)}" rel="nofollow noopener">${label}</a>`;
    },
    heading({ tokens, depth }) {
      const level = Math.min(depth + 1, 6);
      return `<h${level}>${this.parser.parseInline(tokens)}</h${level}>\n`;
    },
    checkbox({ checked }) {
      return checked ? "☑ " : "☐ ";
    },
  },
});

/** The description as safe HTML, for the product page and the editor's preview. */
export function renderMarkdown(source: string): string {
  return markdown.parse(source) as string;
}

/**
 * The description as plain text, at most `max` characters (cut at a word, with "…"), for the
 * store's cards: no markup, no raw HTML, whitespace collapsed.
 */
export function markdownExcerpt(source: string, max = 160): string {
  const text = plainText(markdown.lexer(source)).replace(/\s+/g, " ").trim();
  if (text.length <= max) return text;
  const cut = text.slice(0, max);
  const space = cut.lastIndexOf(" ");
  return `${(space > max * 0.6 ? cut.slice(0, space) : cut).replace(/[\s.,;:!?-]+$/, "")}…`;
}

/** Blocks are set apart by a space; inline pieces join as they were written. */
const BLOCKS = new Set(["paragraph", "heading", "list", "blockquote", "code", "table", "html"]);

function plainText(tokens: Token[]): string {
  return tokens.map((t) => (BLOCKS.has(t.type) ? ` ${tokenText(t)} ` : tokenText(t))).join("");
}

function tokenText(t: Token): string {
  switch (t.type) {
    case "html":
    case "def":
      return "";
    case "hr":
    case "space":
    case "br":
      return " ";
    case "list":
      return (t as Tokens.List).items.map((item) => plainText(item.tokens)).join(" ");
    case "table": {
      const table = t as Tokens.Table;
      return [table.header, ...table.rows]
        .flatMap((row) => row.map((cell) => plainText(cell.tokens)))
        .join(" ");
    }
    case "image":
      return (t as Tokens.Image).text;
    case "escape":
    case "codespan":
    case "code":
      return decodeBasicEntities((t as Tokens.Codespan).text);
    default:
      if ("tokens" in t && t.tokens) return plainText(t.tokens);
      return "text" in t && typeof t.text === "string" ? decodeBasicEntities(t.text) : "";
  }
}

/** marked keeps `&amp;`-style escapes in some tokens' text; the excerpt is text, escaped by JSX. */
const decodeBasicEntities = (text: string) =>
  text
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, "&");
