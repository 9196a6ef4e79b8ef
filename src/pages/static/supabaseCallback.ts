/**
 * Reads the session Supabase put in the URL fragment, stores it in the cookie the server reads
 * (the @supabase/ssr format) and goes to the library. Served at /assets/supabase-callback.js.
 */
export const supabaseCallbackJs = `(() => {
  const box = document.getElementById("callback");
  const status = document.getElementById("callback-status");
  const params = new URLSearchParams(location.hash.slice(1));
  const token = params.get("access_token");
  if (!box || !token) {
    if (status) status.textContent = params.get("error_description") || "This sign-in link is not valid any more. Request a new one.";
    return;
  }
  const session = {
    access_token: token,
    refresh_token: params.get("refresh_token") || "",
    expires_in: Number(params.get("expires_in") || 3600),
    expires_at: Number(params.get("expires_at") || Math.floor(Date.now() / 1000) + 3600),
    token_type: params.get("token_type") || "bearer",
  };
  const value = "base64-" + btoa(JSON.stringify(session)).replace(/\\+/g, "-").replace(/\\//g, "_").replace(/=+$/, "");
  document.cookie = box.dataset.cookie + "=" + value + "; Path=/; Max-Age=34560000; SameSite=Lax" + (box.dataset.secure === "1" ? "; Secure" : "");
  history.replaceState(null, "", location.pathname);
  location.replace("/library");
})();
`;
