/**
 * The library's script, served at /assets/library.js (the CSP allows no inline script): a Copy
 * button beside each licence key. The key itself is plain text anyone can select; the buttons
 * stay hidden where the clipboard cannot be written (no script, a page not served over https).
 */
export const libraryJs = `"use strict";
if (navigator.clipboard && window.isSecureContext) {
  for (const button of document.querySelectorAll("[data-copy-key]")) button.hidden = false;
  document.addEventListener("click", (event) => {
    const button = event.target.closest("[data-copy-key]");
    if (!button) return;
    const key = document.getElementById(button.dataset.copyKey);
    if (!key) return;
    window.getSelection().selectAllChildren(key);
    navigator.clipboard.writeText(key.textContent.trim()).then(
      () => { button.textContent = "Copied"; },
      () => { button.textContent = "Selected: press Ctrl+C"; },
    );
  });
}
`;
