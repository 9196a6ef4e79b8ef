/**
 * The "Confirming your payment..." page checks POST /api/checkout/sync with a growing pause (1 s,
 * 2 s, ... up to 10 s) for about ten minutes. When the status moves on, it fetches the same page
 * and swaps the server-rendered section into the aria-live region, so the download buttons or
 * the failure message come from one place (the server) and screen readers hear the change.
 * Served at /assets/checkout.js (the CSP allows no inline script).
 */
export const checkoutStatusJs = `(() => {
  const region = document.getElementById("checkout-status");
  if (!region || region.dataset.status !== "pending") return;
  const sessionId = region.dataset.sessionId;
  const giveUpAt = Date.now() + 10 * 60 * 1000;
  let attempt = 0;

  const later = () => {
    attempt += 1;
    const delay = Math.min(attempt, 10) * 1000;
    if (Date.now() + delay > giveUpAt) return stop();
    setTimeout(check, delay);
  };

  const check = async () => {
    let status;
    try {
      const response = await fetch("/api/checkout/sync", {
        method: "POST",
        headers: { "content-type": "application/json", accept: "application/json" },
        body: JSON.stringify({ sessionId }),
        cache: "no-store",
      });
      // Any refusal but "busy" (signed out, link too old...) is explained by the page itself.
      if (!response.ok && response.status !== 429 && response.status < 500) return location.reload();
      if (response.ok) status = (await response.json()).status;
    } catch {}
    if (!status || status === "pending") return later();
    show();
  };

  const show = async () => {
    try {
      const response = await fetch(location.href, { headers: { accept: "text/html" }, cache: "no-store" });
      if (!response.ok) return location.reload();
      const page = new DOMParser().parseFromString(await response.text(), "text/html");
      const next = page.getElementById("checkout-status");
      if (!next || next.dataset.status === "pending") return later();
      // DOMParser runs without scripting, so <noscript> content is live markup there: drop it.
      for (const fallback of next.querySelectorAll("noscript")) fallback.remove();
      region.dataset.status = next.dataset.status;
      region.replaceChildren(...Array.from(next.childNodes, (node) => document.importNode(node, true)));
      document.title = page.title;
    } catch {
      later();
    }
  };

  const stop = () => {
    const progress = document.getElementById("checkout-progress");
    const timeout = document.getElementById("checkout-timeout");
    if (progress) progress.hidden = true;
    if (timeout) timeout.hidden = false;
  };

  later();
})();
`;
