/**
 * What `tollgate doctor` found, as the settings page and the command show it. The runtime makes
 * it (src/runtime/diagnose.ts); the types live beside the page so that pages, http and the CLI
 * can all name them without importing the runtime.
 */
export type HealthStatus = "ok" | "warn" | "fail";

export interface HealthCheck {
  status: HealthStatus;
  area: string;
  text: string;
}

export interface Diagnosis {
  checks: HealthCheck[];
  /** The deployment's settings that are not secret. */
  settings: { name: string; value: string }[];
}
