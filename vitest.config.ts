import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts", "test/**/*.test.tsx"],
    // The CLI bundle is built once before the servers the tests start need it.
    globalSetup: ["test/support/global-setup.ts"],
    // Waiting is not judging: a busy machine makes tests slower, never red (test/support/patience.ts).
    testTimeout: 300_000,
    hookTimeout: 300_000,
    pool: "forks",
    // Suites each make their own database (SQLite file, Postgres schema), so they can run in parallel.
    fileParallelism: true,
  },
});
