/** biome-ignore-all lint/a11y/noRedundantRoles: StackTable restates its roles for Safari, which
 * forgets a table's semantics once CSS shows it as blocks (on a phone). */
import type { Child } from "hono/jsx";
import { When } from "../shop.tsx";

export interface Column<T> {
  /** The column's heading, and each cell's label once the rows stack on a phone. */
  label: string;
  cell: (row: T) => Child;
  /**
   * "title": the cell that names the row (a link to it), heading its card on a phone, unlabelled.
   * "buttons": the row's actions, at the foot of its card; the heading is for screen readers.
   * "wrap": long text (an error, a note) that wraps instead of widening the table.
   */
  kind?: "title" | "buttons" | "wrap";
}

/**
 * The seller pages' table: columns side by side on a wide screen; on a phone each row stacks into
 * a card, every cell under its column's label, so amount, status and buttons stay in view with no
 * sideways scrolling.
 */
export function StackTable<T>(props: {
  caption: string;
  rows: T[];
  columns: Column<T>[];
  empty: string;
  /** An id per row, for links to one row (webhooks#evt_...). */
  rowId?: (row: T) => string;
}) {
  if (props.rows.length === 0) return <p class="muted">{props.empty}</p>;
  return (
    <section class="scroll stacks" aria-label={props.caption} tabindex={0}>
      <table class="wide stack" role="table">
        <caption class="sr-only">{props.caption}</caption>
        <thead role="rowgroup">
          <tr role="row">
            {props.columns.map((c) => (
              <th scope="col" role="columnheader">
                {c.kind === "buttons" ? <span class="sr-only">{c.label}</span> : c.label}
              </th>
            ))}
          </tr>
        </thead>
        <tbody role="rowgroup">
          {props.rows.map((row) => (
            <tr role="row" id={props.rowId?.(row)}>
              {props.columns.map((c) => (
                <td role="cell" data-label={c.label} class={c.kind}>
                  {c.cell(row)}
                </td>
              ))}
            </tr>
          ))}
        </tbody>
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

/** An API time ("2024-05-01T10:20:30.000Z") as every date is shown: in the shop's zone; "—" for none. */
export const shortTime = (iso: string | null) => (iso ? <When at={Date.parse(iso)} /> : "—");
