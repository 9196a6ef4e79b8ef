import type { Child } from "hono/jsx";

/** A table that scrolls sideways on a narrow screen instead of hiding columns. */
export function DataTable(props: {
  caption: string;
  head: string[];
  empty: string;
  children: Child[];
}) {
  if (props.children.length === 0) return <p class="muted">{props.empty}</p>;
  return (
    <section class="scroll" aria-label={props.caption} tabindex={0}>
      <table class="wide">
        <caption class="sr-only">{props.caption}</caption>
        <thead>
          <tr>
            {props.head.map((h) => (
              <th scope="col">{h}</th>
            ))}
          </tr>
        </thead>
        <tbody>{props.children}</tbody>
      </table>
    </section>
  );
}

export function Badge({
  tone,
  children,
}: {
  tone: "ok" | "warn" | "bad" | "muted";
  children: Child;
}) {
  return <span class={`badge ${tone}`}>{children}</span>;
}

/** An error the seller can fix, shown above the form that caused it. */
export function FormError({ message }: { message: string | null | undefined }) {
  if (!message) return null;
  return (
    <p class="notice bad" role="alert">
      {message}
    </p>
  );
}

/** A POST form of one button, for actions on a row (retire, revoke, replay). */
export function ActionButton(props: {
  action: string;
  label: string;
  /** Hidden fields sent with the button. */
  fields?: Record<string, string>;
  secondary?: boolean;
  confirm?: string;
}) {
  return (
    <form method="post" action={props.action} class="inline">
      {Object.entries(props.fields ?? {}).map(([name, value]) => (
        <input type="hidden" name={name} value={value} />
      ))}
      <button
        type="submit"
        class={props.secondary === false ? undefined : "secondary small"}
        data-confirm={props.confirm}
      >
        {props.label}
      </button>
    </form>
  );
}

/** "2024-05-01T10:20:30.000Z" -> "2024-05-01 10:20". */
export const shortTime = (iso: string | null) => (iso ? iso.slice(0, 16).replace("T", " ") : "—");
