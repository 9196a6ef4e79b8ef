import type { Diagnosis, HealthStatus } from "./diagnosis.ts";
import { AdminLayout, type AdminPageProps } from "./layout.tsx";
import { Badge } from "./ui.tsx";

const TONE: Record<HealthStatus, { tone: "ok" | "warn" | "bad"; label: string }> = {
  ok: { tone: "ok", label: "ok" },
  warn: { tone: "warn", label: "check" },
  fail: { tone: "bad", label: "problem" },
};

export function SettingsPage(props: AdminPageProps & { diagnosis: Diagnosis | null }) {
  const checks = props.diagnosis?.checks ?? [];
  const problems = checks.filter((c) => c.status === "fail").length;
  return (
    <AdminLayout {...props} title="Settings" section="settings">
      <h1>Settings</h1>
      {props.diagnosis ? (
        <>
          <p class={problems ? "notice bad" : "notice ok"}>
            {problems
              ? `${problems} problem${problems === 1 ? "" : "s"} found. Each is explained below; fix the setting named and restart the shop.`
              : "No problems found."}{" "}
            These are the checks of <code>npx tollgate doctor</code>, run just now.
          </p>
          <h2>Checks</h2>
          <div class="card">
            <table class="facts">
              <caption class="sr-only">Checks</caption>
              <tbody>
                {checks.map((c) => (
                  <tr>
                    <th scope="row">
                      <Badge tone={TONE[c.status].tone}>{TONE[c.status].label}</Badge> {c.area}
                    </th>
                    <td>{c.text}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <h2>This shop's settings</h2>
          <p class="muted">
            Set with environment variables when the shop starts. Secrets (keys, passwords, the
            session secret) are never shown.
          </p>
          <div class="card">
            <table class="facts">
              <caption class="sr-only">This shop's settings</caption>
              <tbody>
                {props.diagnosis.settings.map((s) => (
                  <tr>
                    <th scope="row">{s.name}</th>
                    <td>{s.value}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </>
      ) : (
        <p class="notice">
          This runtime cannot run the checks from a page. Run <code>npx tollgate doctor</code> with
          the shop's configuration instead.
        </p>
      )}
    </AdminLayout>
  );
}
