import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts", "test/**/*.test.tsx"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: "forks",
    // Suites each make their own database (SQLite file, Postgres schema), so they can run in parallel.
    fileParallelism: true,
  },
});
