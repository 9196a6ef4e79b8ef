import type { Child, JSX } from "hono/jsx";

/**
 * One form field: its label, its control and an optional hint under it. A plain input is given by
 * its attributes (`input`) and is described by the hint; any other control (a select, a textarea)
 * comes as children with `id` set on it.
 */
export function Field(props: {
  id: string;
  label: string;
  input?: Omit<JSX.IntrinsicElements["input"], "id">;
  hint?: Child;
  children?: Child;
}) {
  const hintId = props.hint === undefined ? undefined : `${props.id}-help`;
  return (
    <div class="field">
      <label for={props.id}>{props.label}</label>
      {props.input ? <input id={props.id} {...props.input} aria-describedby={hintId} /> : null}
      {props.children}
      {hintId ? (
        <p id={hintId} class="muted">
          {props.hint}
        </p>
      ) : null}
    </div>
  );
}
