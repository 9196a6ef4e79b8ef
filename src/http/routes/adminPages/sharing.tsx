import { Hono } from "hono";
import { updateSharingSettings } from "../../../core/downloads/sharing.ts";
import { clearSharingFlag, listSharingFlags } from "../../../core/downloads/sharingFlags.ts";
import { SharingPage } from "../../../pages/admin/sharing.tsx";
import type { HonoEnv } from "../../env.ts";
import { pageProps } from "../../pageProps.ts";
import { attempt, noticeFor, readForm, redirectDone } from "./forms.ts";
import { settingsPage } from "./settings.tsx";

const NOTICES = { cleared: "Flag cleared: the buyer's downloads go on without asking." };

/** "Possibly shared" (decision 0028) and the settings page's sharing detection form. */
export const sharingPages = new Hono<HonoEnv>()
  .get("/admin/sharing", async (c) => {
    const { flags, settings } = await listSharingFlags({ ctx: c.get("ctx") });
    return c.html(
      <SharingPage
        {...pageProps(c)}
        notice={noticeFor(c, NOTICES)}
        flags={flags}
        settings={settings}
      />,
    );
  })
  .post("/admin/sharing/:entitlementId/clear", async (c) => {
    await clearSharingFlag({
      ctx: c.get("ctx"),
      input: { entitlementId: c.req.param("entitlementId") },
    });
    return redirectDone(c, "/admin/sharing", "cleared");
  })
  .post("/admin/settings/sharing", async (c) => {
    const ctx = c.get("ctx");
    const body = await readForm(c);
    const saved = await attempt(() =>
      updateSharingSettings({
        ctx,
        input: {
          enabled: body.enabled === "on",
          networks: body.networks ?? "",
          devices: body.devices ?? "",
          windowHours: body.windowHours ?? "",
        },
      }),
    );
    if (!saved.ok) return settingsPage(c, { sharingError: saved.message }, 400);
    return redirectDone(c, "/admin/settings", "sharing");
  });
