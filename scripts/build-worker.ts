/**
 * `npm run build:worker`: bundles src/runtime/worker.ts for Cloudflare Workers into
 * dist/worker/index.js, prints its size and gzip size, and fails above the budget.
 */
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { builtinModules } from "node:module";
import { basename, dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { type BuildOptions, build, type Metafile, type Plugin } from "esbuild";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
export const ENTRY = join(ROOT, "src/runtime/worker.ts");
export const DEFAULT_OUTFILE = join(ROOT, "dist/worker/index.js");
/**
 * Every module uploaded, gzip. Workers' free plan allows 3 MB; ours stays far smaller, so the
 * isolate starts quickly and the next features (licences, releases, outgoing webhooks) fit
 * (issue 14; docs/deploy-cloudflare.md keeps the figures; 194 KB since covers and Markdown
 * descriptions, issue 16; 212 KB for releases and outgoing webhooks, issue 17;
 * 228 KB for the watched delivery, issue 18; 248 KB for issue 19's resumable uploads, PDF
 * stamping (its library a lazy chunk), malware scanning and sharing detection). Above it, the
 * build fails.
 */
export const BUDGET_GZIP_BYTES = 248 * 1024;
/**
 * The lazy chunks beside the main module (decision 0026): code an isolate evaluates only when a
 * request needs it, loaded by `import()`. Today the PDF library (@cantoo/pdf-lib, PDF stamping),
 * about 250 KB gzip. Counted apart from the main module, so the main module's budget keeps
 * meaning what a cold start carries; together they stay far below Workers' 3 MB limit.
 */
export const CHUNKS_BUDGET_GZIP_BYTES = 300 * 1024;

/**
 * Node's modules stay imports, as `node:x`, for workerd's nodejs_compat to provide; pg asks for
 * them with require(), which an ES module cannot do, so a require() gets a small module that
 * imports the module and hands over its default export, as Node's require() would.
 * `cloudflare:sockets` is workerd's own.
 */
const runtimeModules: Plugin = {
  name: "runtime-modules",
  setup(b) {
    const names = builtinModules.filter((m) => !m.startsWith("_")).join("|");
    b.onResolve({ filter: new RegExp(`^(node:)?(${names})(/.*)?$`) }, (args) => {
      const path = args.path.startsWith("node:") ? args.path : `node:${args.path}`;
      if (args.kind === "require-call") return { path, namespace: "node-require" };
      return { path, external: true };
    });
    b.onLoad({ filter: /.*/, namespace: "node-require" }, (args) => ({
      contents: `import m from ${JSON.stringify(args.path)}; module.exports = m;`,
      loader: "js",
    }));
    b.onResolve({ filter: /^cloudflare:/ }, (args) => ({ path: args.path, external: true }));
  },
};

/**
 * The Worker calls Stripe through src/adapters/stripe/fetchClient.ts: the few calls the adapter
 * makes, over fetch, instead of the official SDK (about 20 KB gzip of the bundle). It has the
 * same exports as client.ts and answers the same `StripeApi` (api.ts); Node keeps the SDK.
 */
export const STRIPE_CLIENT = join(ROOT, "src/adapters/stripe/client.ts");
export const STRIPE_FETCH_CLIENT = join(ROOT, "src/adapters/stripe/fetchClient.ts");

const stripeOverFetch: Plugin = {
  name: "stripe-over-fetch",
  setup(b) {
    b.onResolve({ filter: /[\\/]client\.ts$/ }, (args) =>
      resolve(args.resolveDir, args.path) === STRIPE_CLIENT
        ? { path: STRIPE_FETCH_CLIENT }
        : undefined,
    );
  },
};

/**
 * The API reference (`GET /api/openapi.json`) is made by src/http/openapi/document.ts with
 * hono-openapi and zod's JSON Schema conversion: about 31 KB gzip, for a document that is the
 * same until the next deploy. The build makes it here, on Node, from the same routes and
 * schemas, and writes it with its headers as a static asset (`assets` in wrangler.jsonc), which
 * Cloudflare serves without running the Worker. The Worker carries neither the generator nor
 * the routes' descriptions (apiDoc calls), about 6.4 KB gzip with the text (decision 0014).
 */
export const API_DOCUMENT = join(ROOT, "src/http/openapi/document.ts");
const ERRORS = join(ROOT, "src/core/errors.ts");

const apiDocumentAsAsset: Plugin = {
  name: "api-document-as-asset",
  setup(b) {
    b.onLoad({ filter: /[\\/]src[\\/]http[\\/]openapi[\\/]document\.ts$/ }, (args) => {
      if (args.path !== API_DOCUMENT) return undefined;
      // Reached only when the Worker is deployed without its assets.
      const contents = `import { unavailable } from ${JSON.stringify(ERRORS)};
export async function apiDocumentText() {
  throw unavailable("The API reference is a static asset of the Worker: deploy it with wrangler.jsonc's assets (dist/worker/assets).");
}`;
      return { contents, loader: "js" };
    });
    b.onLoad({ filter: /[\\/]src[\\/]http[\\/]routes[\\/].*\.tsx?$/ }, async (args) => {
      const source = await readFile(args.path, "utf8");
      if (!source.includes("apiDoc(")) return undefined;
      return {
        contents: withoutApiDocs(source, args.path),
        loader: args.path.endsWith("x") ? "tsx" : "ts",
      };
    });
  },
};

/**
 * A route file's source without its `apiDoc({ ... }),` arguments: each is skipped to its closing
 * parenthesis, past strings and comments. Anything the scan does not understand (a template
 * with `${`, a regular expression) fails the build rather than cutting in the wrong place.
 */
export function withoutApiDocs(source: string, file: string): string {
  let out = "";
  let from = 0;
  for (const match of source.matchAll(/(?<![\w$.])apiDoc\(/g)) {
    const start = match.index;
    if (start < from) continue;
    let i = start + match[0].length;
    let depth = 1;
    const fail = (why: string): never => {
      throw new Error(`${file}: cannot cut the apiDoc call at offset ${start}: ${why}`);
    };
    while (depth > 0) {
      const ch = source[i];
      if (ch === undefined) fail("it does not end");
      if (ch === '"' || ch === "'" || ch === "`") {
        let j = i + 1;
        while (j < source.length && source[j] !== ch) j += source[j] === "\\" ? 2 : 1;
        if (j >= source.length) fail("a string does not end");
        if (ch === "`" && source.slice(i, j).includes("${")) fail("a template with ${");
        i = j + 1;
        continue;
      }
      if (ch === "/" && source[i + 1] === "/") {
        i = source.indexOf("\n", i);
        if (i < 0) fail("a comment does not end");
        continue;
      }
      if (ch === "/" && source[i + 1] === "*") {
        const end = source.indexOf("*/", i + 2);
        if (end < 0) fail("a comment does not end");
        i = end + 2;
        continue;
      }
      if (ch === "/") fail("a division or a regular expression");
      if (ch === "(" || ch === "{" || ch === "[") depth++;
      else if (ch === ")" || ch === "}" || ch === "]") depth--;
      i++;
    }
    const rest = /^\s*,\s*/.exec(source.slice(i));
    if (!rest) fail("it is not an argument followed by another");
    out += source.slice(from, start);
    from = i + (rest?.[0].length ?? 0);
  }
  return out + source.slice(from);
}

/**
 * The pages' stylesheet and scripts (src/http/staticAssets.ts, about 12 KB gzip) are static
 * assets of the Worker too: written beside the API reference, served by Cloudflare with their
 * headers, and left out of the code (the Worker's /assets/{name} route finds none).
 */
const STATIC_ASSETS_MODULE = join(ROOT, "src/http/staticAssets.ts");

const staticAssetsAsAssets: Plugin = {
  name: "static-assets-as-assets",
  setup(b) {
    b.onLoad({ filter: /[\\/]src[\\/]http[\\/]staticAssets\.ts$/ }, async (args) => {
      if (args.path !== STATIC_ASSETS_MODULE) return undefined;
      const { STATIC_ASSET_HEADERS } = await import("../src/http/staticAssets.ts");
      const contents = `export const STATIC_ASSETS = {};
export const STATIC_ASSET_HEADERS = ${JSON.stringify(STATIC_ASSET_HEADERS)};`;
      return { contents, loader: "js" };
    });
  },
};

/**
 * Writes the static assets into `dir`, Workers' static assets folder: the API reference and the
 * pages' stylesheet and scripts, with their headers in Cloudflare's _headers file.
 */
async function writeStaticAssets(dir: string): Promise<void> {
  const { apiDocumentText } = await import("../src/http/openapi/document.ts");
  const { API_DOCUMENT_HEADERS, API_DOCUMENT_PATH } = await import("../src/http/routes/openapi.ts");
  const { STATIC_ASSETS, STATIC_ASSET_HEADERS } = await import("../src/http/staticAssets.ts");
  const files: [string, string, Record<string, string>][] = [
    [API_DOCUMENT_PATH, await apiDocumentText(), API_DOCUMENT_HEADERS],
    ...Object.entries(STATIC_ASSETS).map(
      ([name, asset]): [string, string, Record<string, string>] => [
        `/assets/${name}`,
        asset.body,
        { ...STATIC_ASSET_HEADERS, "Content-Type": asset.type },
      ],
    ),
  ];
  const rules: string[] = [];
  for (const [path, body, headers] of files) {
    const file = join(dir, path);
    await mkdir(dirname(file), { recursive: true });
    await writeFile(file, body);
    // Cloudflare's _headers format: a path, then its headers indented below it.
    rules.push(path, ...Object.entries(headers).map(([name, value]) => `  ${name}: ${value}`));
  }
  await writeFile(join(dir, "_headers"), `${rules.join("\n")}\n`);
}

/**
 * Code the Worker never runs, left out so the bundle stays within budget (the tests run the
 * bundle, so anything cut that is needed shows there). Each rule replaces one module's source.
 */
const TRIMS: { why: string; filter: RegExp; contents: (source: string) => string }[] = [
  {
    why: "`import { z }` keeps zod's messages in some fifty languages; Tollgate speaks English",
    filter: /[\\/]zod[\\/]v4[\\/]locales[\\/]index\.js$/,
    contents: () => 'export { default as en } from "./en.js";',
  },
  {
    why: "zod's schema compiler and JSON Schema conversions: features Tollgate never calls",
    filter:
      /[\\/]zod[\\/]v4[\\/](core[\\/](compile|json-schema-processors|to-json-schema|json-schema-generator)|classic[\\/]from-json-schema)\.js$/,
    // Schemas make these two methods up front (on `~standard`); the methods throw when called.
    contents: (source) =>
      throwingExports(source, "zod", [
        "createToJSONSchemaMethod",
        "createStandardJSONSchemaMethod",
      ]),
  },
  {
    why: "pg's native bindings and its Pool: Workers load no addons, and connections come from Hyperdrive",
    filter: /[\\/]node_modules[\\/](pg[\\/]lib[\\/]native[\\/]index|pg-pool[\\/]index)\.js$/,
    contents: () => "module.exports = class Unavailable {};",
  },
  {
    why: "pgpass reads ~/.pgpass: Workers have no home folder, and Hyperdrive's URL has the password",
    filter: /[\\/]node_modules[\\/]pgpass[\\/]lib[\\/]index\.js$/,
    // What pgpass answers when there is no file: no password.
    contents: () => "module.exports = (_connection, callback) => callback(undefined);",
  },
  {
    why: "pg-types' binary-format parsers: pg asks Postgres for text results, and Tollgate never for binary",
    filter: /[\\/]node_modules[\\/]pg-types[\\/]lib[\\/]binaryParsers\.js$/,
    contents: () => "module.exports = { init() {} };",
  },
  {
    why: "The TLS certificate hashes of SCRAM channel binding: pg uses them only with enableChannelBinding, which Tollgate never sets",
    filter: /[\\/]node_modules[\\/]pg[\\/]lib[\\/]crypto[\\/]cert-signatures\.js$/,
    contents: (source) =>
      throwingExports(source.replace(/^module\.exports = \{([^}]*)\}/m, "export {$1}"), "pg"),
  },
  {
    why: "Kysely's schema builders (db.schema), with their node transformer, the introspector, the withSchema plugin and db.dynamic: the Worker migrates nothing (npx tollgate migrate does) and uses none of them",
    filter:
      /[\\/]kysely[\\/]dist[\\/]esm[\\/](schema[\\/]schema|plugin[\\/]with-schema[\\/]with-schema-plugin|dialect[\\/]postgres[\\/]postgres-introspector|dynamic[\\/]dynamic)\.js$/,
    contents: (source) => throwingExports(source, "kysely"),
  },
  {
    why: "The migrations' steps: the Worker only asks which are pending (doctor), by name",
    filter: /[\\/]src[\\/]db[\\/]migrations[\\/][^\\/]+\.ts$/,
    contents: (source) => throwingExports(source, "migrations"),
  },
  {
    why: "Hono's default router is SmartRouter over RegExpRouter and TrieRouter, keeping the first that takes every route; RegExpRouter refuses Tollgate's (/admin/products/new beside /admin/products/:slug), so TrieRouter is what routes on Node too, and routes alone here",
    filter: /[\\/]hono[\\/]dist[\\/]hono\.js$/,
    contents: () => `import { HonoBase } from "./hono-base.js";
import { TrieRouter } from "./router/trie-router/router.js";
export class Hono extends HonoBase {
  constructor(options = {}) {
    super(options);
    this.router = options.router ?? new TrieRouter();
  }
}`,
  },
  {
    why: "Kysely's JSON path builder (eb.jsonPath, ref(col, '->')) and Hono's app.mount() for other frameworks' apps: Tollgate uses neither",
    filter:
      /[\\/](kysely[\\/]dist[\\/]esm[\\/]query-builder[\\/]json-path-builder|hono[\\/]dist[\\/]utils[\\/]mount)\.js$/,
    contents: (source) => throwingExports(source, "kysely/hono"),
  },
  {
    why: "Kysely's MERGE builder: Tollgate writes no MERGE (upserts are INSERT ... ON CONFLICT)",
    filter: /[\\/]kysely[\\/]dist[\\/]esm[\\/]query-builder[\\/]merge-query-builder\.js$/,
    contents: (source) => throwingExports(source, "kysely"),
  },
];

/** The module's exports, each a function that throws when called (factories: when what they make is). */
function throwingExports(source: string, what: string, factories: string[] = []): string {
  const names = new Set<string>();
  for (const [, name] of source.matchAll(/^export (?:async )?(?:function|const|class|let) (\w+)/gm))
    names.add(name as string);
  for (const [, list] of source.matchAll(/^export \{([^}]*)\}/gm))
    for (const item of (list as string).split(","))
      if (item.trim())
        names.add(
          item
            .trim()
            .split(/\s+as\s+/)
            .pop() as string,
        );
  const fail = (name: string) => `throw new Error("${what}: ${name} is not in the Worker build");`;
  return [...names]
    .map((name) =>
      factories.includes(name)
        ? `export function ${name}() { return () => { ${fail(name)} }; }`
        : `export function ${name}() { ${fail(name)} }`,
    )
    .join("\n");
}

const trims: Plugin = {
  name: "trims",
  setup(b) {
    for (const trim of TRIMS) {
      b.onLoad({ filter: trim.filter }, async (args) => {
        return { contents: trim.contents(await readFile(args.path, "utf8")), loader: "js" };
      });
    }
  },
};

export interface WorkerBundle {
  /** The main module: what every isolate evaluates when it starts. */
  file: string;
  /** The static assets beside it (the API reference), which wrangler uploads apart from the code. */
  assets: string;
  /** The main module's size; BUDGET_GZIP_BYTES bounds its gzip size. */
  bytes: number;
  gzipBytes: number;
  /** The lazy chunks (`chunks/*.js`), each with its sizes; CHUNKS_BUDGET_GZIP_BYTES bounds their gzip total. */
  chunks: { file: string; bytes: number; gzipBytes: number }[];
  /** esbuild's account of what went in (for `--analyze`). */
  metafile?: Metafile;
}

/** esbuild's options for the Worker bundle. */
export function workerBuildOptions(outfile = DEFAULT_OUTFILE): BuildOptions & { write: false } {
  return {
    entryPoints: [ENTRY],
    // The main module is `outfile`; what `import()` loads goes to `chunks/` beside it.
    outdir: dirname(outfile),
    entryNames: basename(outfile, ".js"),
    chunkNames: "chunks/[name]-[hash]",
    splitting: true,
    bundle: true,
    format: "esm",
    platform: "neutral",
    target: "es2022",
    // The packages' Workers builds (pg-cloudflare's sockets).
    conditions: ["workerd", "worker", "browser"],
    mainFields: ["module", "main"],
    minify: true,
    sourcemap: "external",
    legalComments: "none",
    write: false,
    logLevel: "warning",
    plugins: [runtimeModules, stripeOverFetch, apiDocumentAsAsset, staticAssetsAsAssets, trims],
    charset: "utf8",
    metafile: true,
  };
}

export async function buildWorker(outfile = DEFAULT_OUTFILE): Promise<WorkerBundle> {
  const result = await build(workerBuildOptions(outfile));
  await mkdir(dirname(outfile), { recursive: true });
  // Chunks and assets of an earlier build would be uploaded too (wrangler takes the folders).
  for (const old of ["chunks", "assets"])
    await rm(join(dirname(outfile), old), { recursive: true, force: true });
  let code: Uint8Array | null = null;
  const chunks: WorkerBundle["chunks"] = [];
  for (const file of result.outputFiles) {
    await mkdir(dirname(file.path), { recursive: true });
    await writeFile(file.path, file.contents);
    if (file.path === outfile) code = file.contents;
    else if (file.path.endsWith(".js"))
      chunks.push({
        file: file.path,
        bytes: file.contents.byteLength,
        gzipBytes: gzipSync(file.contents).byteLength,
      });
  }
  if (!code) throw new Error("esbuild wrote no bundle");
  const assets = join(dirname(outfile), "assets");
  await writeStaticAssets(assets);
  return {
    file: outfile,
    assets,
    bytes: code.byteLength,
    gzipBytes: gzipSync(code).byteLength,
    chunks,
    metafile: result.metafile,
  };
}

const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} KB`;

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const bundle = await buildWorker();
  const over = bundle.gzipBytes > BUDGET_GZIP_BYTES;
  console.log(
    `${bundle.file.slice(ROOT.length + 1)}: ${kb(bundle.bytes)}, ${kb(bundle.gzipBytes)} gzip (budget ${kb(BUDGET_GZIP_BYTES)} gzip)`,
  );
  if (over) {
    console.error(
      `The Worker bundle is ${kb(bundle.gzipBytes - BUDGET_GZIP_BYTES)} over its gzip budget.`,
    );
    process.exitCode = 1;
  }
  for (const chunk of bundle.chunks)
    console.log(
      `${chunk.file.slice(ROOT.length + 1)}: ${kb(chunk.bytes)}, ${kb(chunk.gzipBytes)} gzip (lazy chunk)`,
    );
  const chunksGzip = bundle.chunks.reduce((sum, c) => sum + c.gzipBytes, 0);
  if (chunksGzip > CHUNKS_BUDGET_GZIP_BYTES) {
    console.error(
      `The lazy chunks are ${kb(chunksGzip - CHUNKS_BUDGET_GZIP_BYTES)} over their gzip budget.`,
    );
    process.exitCode = 1;
  }
}
