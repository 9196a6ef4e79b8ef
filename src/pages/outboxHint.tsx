/**
 * On a shop whose mail goes to the outbox, seen from its own machine: every "check your email"
 * says where that mail is.
 */
export function OutboxHint(props: { show?: boolean | undefined }) {
  if (!props.show) return null;
  return (
    <p class="notice">
      This shop runs offline: no mail leaves this machine. <a href="/dev/outbox">Open the outbox</a>{" "}
      to read it.
    </p>
  );
}
