/**
 * Which way imports may point (`npm run depcheck`, part of `npm test`). docs/architecture.md draws
 * the same layers. A rule here is a decision: change it in the same commit as the reason.
 *
 * Layers, from the bottom: db (schema types, migrations, connections) < core (the rules) <
 * adapters (one port each) and mail/pages (rendering) < http (the Hono app) < runtime and cli
 * (composition roots). src/local-stripe is an application of its own, started by runtime and cli.
 */

/** What an adapter may import from the core: the ports, and the core's small shared utilities. */
const CORE_FOR_ADAPTERS = [
  "^src/core/ports[.]ts$", // the interfaces it implements (Db and Trx come through here)
  "^src/core/errors[.]ts$", // the one error family, so a store's "too large" is the core's
  "^src/core/encoding[.]ts$", // hex, base64url, timing-safe compare
  "^src/core/contentDisposition[.]ts$", // the download header, also signed into S3 URLs
];

/**
 * The one import between adapters: R2's binding store cuts multipart uploads into parts exactly as
 * the S3 store does (R2 is S3-compatible), so it reuses the S3 adapter's PartReader.
 */
const SHARED_BETWEEN_ADAPTERS = "^src/adapters/storage-s3/parts[.]ts$";

module.exports = {
  forbidden: [
    {
      name: "no-cycles",
      comment: "No import cycles anywhere in src (type-only imports count: they still tie files).",
      severity: "error",
      from: { path: "^src/" },
      to: { circular: true },
    },
    {
      name: "core-imports-no-outer-layer",
      comment:
        "The core knows nothing of http, pages, mail rendering, runtimes, the CLI, concrete " +
        "adapters or the local Stripe; it asks for what it needs through core/ports.ts.",
      severity: "error",
      from: { path: "^src/core/" },
      to: {
        path: "^src/(http|pages|mail|runtime|cli|adapters|local-stripe)/|^src/(config|index)[.]ts$",
      },
    },
    {
      name: "core-sees-db-schema-types-only",
      comment:
        "The core may name the database's row types (src/db/schema.ts, with `import type`): " +
        "the Db port is Kysely over that schema. Nothing else of src/db, and no values.",
      severity: "error",
      from: { path: "^src/core/" },
      to: {
        path: "^src/db/",
        dependencyTypesNot: ["type-only"],
      },
    },
    {
      name: "core-sees-db-schema-only",
      severity: "error",
      from: { path: "^src/core/" },
      to: { path: "^src/db/", pathNot: "^src/db/schema[.]ts$" },
    },
    {
      name: "db-below-core",
      comment: "The database layer sits below the core: it implements ports by shape, not import.",
      severity: "error",
      from: { path: "^src/db/" },
      to: { path: "^src/(core|http|pages|mail|runtime|cli|adapters|local-stripe)/" },
    },
    {
      name: "adapters-see-only-ports",
      comment:
        "An adapter imports its own folder, core/ports.ts and the core's shared utilities " +
        "(CORE_FOR_ADAPTERS above), and npm packages: never another adapter, a core internal, " +
        "http, pages or the runtime.",
      severity: "error",
      from: { path: "^src/adapters/([^/]+)/" },
      to: {
        path: "^src/",
        pathNot: ["^src/adapters/$1/", ...CORE_FOR_ADAPTERS, SHARED_BETWEEN_ADAPTERS],
      },
    },
    {
      name: "only-r2-borrows-from-s3",
      comment: "SHARED_BETWEEN_ADAPTERS above is for the R2 store only.",
      severity: "error",
      from: { path: "^src/adapters/", pathNot: "^src/adapters/(storage-r2|storage-s3)/" },
      to: { path: SHARED_BETWEEN_ADAPTERS },
    },
    {
      name: "http-and-pages-not-runtime-or-cli",
      comment: "The runtimes and the CLI compose the app; the app never reaches back into them.",
      severity: "error",
      from: { path: "^src/(http|pages)/" },
      to: { path: "^src/(runtime|cli)/" },
    },
    {
      name: "pages-take-plain-props",
      comment: "Pages render props; the http layer reads the request and adapts (no Hono Context).",
      severity: "error",
      from: { path: "^src/pages/" },
      to: { path: "^src/http/" },
    },
    {
      name: "local-stripe-started-by-runtime-or-cli",
      comment: "The local Stripe is an application; only the runtime and the CLI start it.",
      severity: "error",
      from: { path: "^src/", pathNot: "^src/(runtime|cli|local-stripe)/" },
      to: { path: "^src/local-stripe/" },
    },
    {
      name: "nothing-imports-tests",
      comment: "Shipped code and scripts never import from test/.",
      severity: "error",
      from: { path: "^(src|scripts)/" },
      to: { path: "^test/" },
    },
    {
      name: "bench-imports-only-test-support",
      comment: "Benchmarks may reuse the tests' stand-in services (test/support), nothing else.",
      severity: "error",
      from: { path: "^bench/" },
      to: { path: "^test/", pathNot: "^test/support/" },
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    enhancedResolveOptions: {
      extensions: [".ts", ".tsx", ".js", ".mjs", ".cjs", ".json"],
      conditionNames: ["import", "require", "node", "default", "types"],
    },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
