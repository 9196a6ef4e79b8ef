import { Badge } from "./ui.tsx";

const ORDER_TONES: Record<string, "ok" | "warn" | "bad" | "muted"> = {
  paid: "ok",
  pending: "warn",
  failed: "bad",
  refunded: "muted",
  disputed: "bad",
  abandoned: "muted",
};

export function OrderStatus({
  status,
  flag,
  receipt,
}: {
  status: string;
  flag: string | null;
  receipt?: string | undefined;
}) {
  return (
    <>
      <Badge tone={ORDER_TONES[status] ?? "muted"}>{status}</Badge>
      {flag ? (
        <>
          {" "}
          <Badge tone="bad">flagged</Badge>
        </>
      ) : null}
      {receipt === "bounced" ? (
        <>
          {" "}
          <Badge tone="bad">receipt bounced</Badge>
        </>
      ) : null}
    </>
  );
}

const ENTITLEMENT_TONES = { active: "ok", suspended: "warn", revoked: "muted" } as const;

export function EntitlementStatus({ status }: { status: string }) {
  return (
    <Badge tone={ENTITLEMENT_TONES[status as keyof typeof ENTITLEMENT_TONES] ?? "muted"}>
      {status}
    </Badge>
  );
}

const EVENT_TONES = {
  processed: "ok",
  ignored: "muted",
  flagged: "warn",
  failed: "bad",
  received: "warn",
  processing: "warn",
} as const;

export function EventStatus({ status }: { status: string }) {
  return <Badge tone={EVENT_TONES[status as keyof typeof EVENT_TONES] ?? "muted"}>{status}</Badge>;
}
