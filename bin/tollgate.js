#!/usr/bin/env node
// Runs the TypeScript CLI through tsx, so there is no build step between a change and a run.
// The project's tsconfig is named explicitly: the CLI may run from any folder.
import { fileURLToPath } from "node:url";
import { register } from "tsx/esm/api";

register({ tsconfig: fileURLToPath(new URL("../tsconfig.json", import.meta.url)) });
await import("../src/cli/main.ts");
