/**
 * The seller pages' script, served at /assets/admin.js (the CSP allows no inline script):
 * confirmation before destructive buttons, copy buttons, the current section in view in the
 * section bar, and file uploads with a progress bar.
 * An upload asks the app where to send the bytes (POST /api/admin/products/{slug}/uploads):
 * straight to S3/R2 through a presigned PUT or presigned parts, or through the app when files
 * live in a local folder; then the app checks and records the file.
 */
export const adminJs = `"use strict";
document.addEventListener("submit", (event) => {
  const text = event.submitter && event.submitter.dataset.confirm;
  if (text && !window.confirm(text)) event.preventDefault();
});
document.addEventListener("click", (event) => {
  const button = event.target.closest("[data-copy]");
  if (!button) return;
  const field = document.getElementById(button.dataset.copy);
  if (!field) return;
  field.select();
  navigator.clipboard.writeText(field.value).then(() => { button.textContent = "Copied"; }, () => {});
});

// On a phone the section bar scrolls: bring the current section into view.
const current = document.querySelector(".admin-nav [aria-current=page]");
if (current) {
  const nav = current.parentElement;
  const offset = current.getBoundingClientRect().left - nav.getBoundingClientRect().left;
  nav.scrollLeft += offset - (nav.clientWidth - current.offsetWidth) / 2;
}

// The new-product form: the address follows the name until the seller types one, and the
// billing interval shows only for a subscription.
const productName = document.querySelector("form[data-new-product] #name");
const productSlug = document.querySelector("form[data-new-product] #slug");
if (productName && productSlug) {
  let typed = productSlug.value !== "";
  productSlug.addEventListener("input", () => { typed = productSlug.value !== ""; });
  productName.addEventListener("input", () => {
    if (typed) return;
    productSlug.value = productName.value.normalize("NFKD").toLowerCase()
      .replace(/[^a-z0-9]+/g, "-").replace(/^-+|-+$/g, "").slice(0, 64).replace(/-+$/, "");
  });
}
const productKind = document.querySelector("form[data-new-product] #kind");
const billing = document.querySelector("form[data-new-product] [data-billing]");
if (productKind && billing) {
  const show = () => { billing.hidden = productKind.value !== "subscription"; };
  productKind.addEventListener("change", show);
  show();
}

// The link form offers only the chosen product's files.
const linkProduct = document.getElementById("link-product");
const linkFile = document.getElementById("link-file");
if (linkProduct && linkFile) {
  const onlyItsFiles = () => {
    for (const group of linkFile.querySelectorAll("optgroup")) {
      const its = group.dataset.product === linkProduct.value;
      group.hidden = !its;
      group.disabled = !its;
    }
    const chosen = linkFile.selectedOptions[0];
    if (chosen && chosen.parentElement.disabled) linkFile.value = "";
  };
  linkProduct.addEventListener("change", onlyItsFiles);
  onlyItsFiles();
}

const form = document.getElementById("upload");
if (form) form.addEventListener("submit", (event) => {
  event.preventDefault();
  const file = form.querySelector("input[type=file]").files[0];
  if (file) upload(form, file);
});

async function upload(form, file) {
  const button = form.querySelector("button[type=submit]");
  const status = document.getElementById("upload-status");
  const bar = document.getElementById("upload-progress");
  const text = document.getElementById("upload-text");
  const say = (message, tone) => { text.textContent = message; text.className = tone ? "notice " + tone : ""; };
  const max = Number(form.dataset.maxBytes);
  status.hidden = false;
  if (file.size > max) return say(file.name + " is larger than the upload limit of " + size(max) + ".", "bad");
  button.disabled = true;
  bar.value = 0;
  const started = Date.now();
  const progress = (sent) => {
    bar.value = file.size ? Math.floor((sent / file.size) * 100) : 100;
    const seconds = (Date.now() - started) / 1000;
    const rate = seconds > 0.5 ? " at " + size(sent / seconds) + "/s" : "";
    say("Uploading " + file.name + ": " + size(sent) + " of " + size(file.size) + rate + "...");
  };
  try {
    const base = "/api/admin/products/" + encodeURIComponent(form.dataset.product);
    const plan = await api(base + "/uploads", { filename: file.name, size: file.size, contentType: file.type || null });
    progress(0);
    if (plan.method === "POST") {
      await send("POST", plan.url, file, { "content-type": file.type || "application/octet-stream" }, progress);
    } else if (plan.method === "PUT") {
      await send("PUT", plan.url, file, plan.headers, progress);
      await api(base + "/uploads/complete", { uploadId: plan.uploadId });
    } else {
      const done = [];
      let sentBefore = 0;
      for (const part of plan.parts) {
        const start = (part.partNumber - 1) * plan.partSize;
        const xhr = await send("PUT", part.url, file.slice(start, start + part.size), {}, (sent) => progress(sentBefore + sent));
        sentBefore += part.size;
        const etag = xhr.getResponseHeader("ETag");
        if (!etag) throw new Error("The storage did not return the part's ETag: allow the ETag header in the bucket's CORS rules.");
        done.push({ partNumber: part.partNumber, etag });
      }
      say("Checking " + file.name + "...");
      await api(base + "/uploads/complete", { uploadId: plan.uploadId, parts: done });
    }
    bar.value = 100;
    say(file.name + " uploaded.", "ok");
    // The product's own page, whatever page the form sat on (a refused publish answers at /publish).
    window.location.assign("/admin/products/" + encodeURIComponent(form.dataset.product) + "?done=uploaded");
  } catch (error) {
    say("The upload failed: " + error.message, "bad");
    button.disabled = false;
  }
}

async function api(url, body) {
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", accept: "application/json" },
    body: JSON.stringify(body),
  });
  const data = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(data.message || "the server answered " + res.status);
  return data;
}

function send(method, url, body, headers, onProgress) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open(method, url);
    for (const [name, value] of Object.entries(headers || {})) xhr.setRequestHeader(name, value);
    xhr.upload.onprogress = (e) => onProgress(e.loaded);
    xhr.onload = () => {
      if (xhr.status >= 200 && xhr.status < 300) return resolve(xhr);
      let message = "the server answered " + xhr.status;
      try { message = JSON.parse(xhr.responseText).message || message; } catch {}
      reject(new Error(message));
    };
    xhr.onerror = () => reject(new Error("the connection failed; check your network and try again"));
    xhr.send(body);
  });
}

function size(bytes) {
  const units = ["B", "KB", "MB", "GB", "TB"];
  let i = 0;
  while (bytes >= 1024 && i < units.length - 1) { bytes /= 1024; i++; }
  return (i === 0 ? bytes : bytes.toFixed(bytes < 10 ? 1 : 0)) + " " + units[i];
}
`;
