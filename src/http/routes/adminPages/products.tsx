import { Hono } from "hono";
import type { HonoEnv } from "../../env.ts";

export const productPages = new Hono<HonoEnv>();
