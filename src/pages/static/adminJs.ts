/**
 * The seller pages' script, served at /assets/admin.js (the CSP allows no inline script):
 * confirmation before destructive buttons, copy buttons, the current section in view in the
 * section bar, and file uploads (several at once, dropped or chosen) with progress and cancel.
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

// Uploads: several files at once, chosen or dropped on the form, one after the other, each with
// its progress and a Cancel button. A cancelled upload is aborted and whatever it left is
// dropped; an upload of the same bytes as the current version is no new version, and says so.
const form = document.getElementById("upload");
if (form) {
  const input = form.querySelector("input[type=file]");
  const queue = [];
  let running = false;
  const results = [];
  const known = new Set(JSON.parse(form.dataset.assets || "[]"));
  const status = document.getElementById("upload-status");
  const bar = document.getElementById("upload-progress");
  const text = document.getElementById("upload-text");
  const list = document.getElementById("upload-list");
  const say = (message, tone) => { text.textContent = message; text.className = tone ? "notice " + tone : ""; };
  const base = "/api/admin/products/" + encodeURIComponent(form.dataset.product);
  const max = Number(form.dataset.maxBytes);

  const add = (files) => {
    if (!files.length) return;
    status.hidden = false;
    for (const file of files) queue.push(row(file));
    input.value = "";
    if (!running) run();
  };
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    add(Array.from(input.files));
  });
  for (const type of ["dragenter", "dragover"]) form.addEventListener(type, (event) => {
    if (!event.dataTransfer || !Array.from(event.dataTransfer.types).includes("Files")) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = "copy";
    form.querySelector("[data-dropzone]").classList.add("over");
  });
  form.addEventListener("dragleave", (event) => {
    if (!form.contains(event.relatedTarget)) form.querySelector("[data-dropzone]").classList.remove("over");
  });
  form.addEventListener("drop", (event) => {
    event.preventDefault();
    form.querySelector("[data-dropzone]").classList.remove("over");
    add(Array.from((event.dataTransfer && event.dataTransfer.files) || []));
  });

  // One file's line: its name, progress, state and a Cancel button while it is not done.
  function row(file) {
    const li = document.createElement("li");
    const name = document.createElement("span");
    name.className = "name";
    name.textContent = file.name;
    const cancel = document.createElement("button");
    cancel.type = "button";
    cancel.className = "secondary small";
    cancel.textContent = "Cancel";
    cancel.setAttribute("aria-label", "Cancel " + file.name);
    const progress = document.createElement("progress");
    progress.max = 100;
    progress.value = 0;
    progress.setAttribute("aria-label", file.name + " progress");
    const state = document.createElement("p");
    state.className = "state muted";
    state.textContent = "Waiting";
    li.append(name, cancel, progress, state);
    list.append(li);
    const item = { file, sent: 0, done: false, cancelled: false, abort: null, li, state, progress, cancel };
    item.end = (message, tone) => {
      item.done = true;
      cancel.remove();
      state.textContent = message;
      state.className = "state " + (tone === "bad" ? "notice bad" : tone === "ok" ? "notice ok" : "muted");
    };
    cancel.addEventListener("click", () => {
      if (item.done) return;
      item.cancelled = true;
      if (item.abort) item.abort();
      else item.end("Cancelled: nothing was uploaded.");
    });
    return item;
  }

  async function run() {
    running = true;
    while (queue.length) {
      const item = queue.shift();
      if (item.cancelled) { results.push({ item, outcome: "cancelled" }); continue; }
      results.push(await uploadOne(item));
    }
    running = false;
    finish();
  }

  function overall(item) {
    const active = results.map((r) => r.item).concat(queue).concat(item ? [item] : []).filter((i) => !i.cancelled);
    const total = active.reduce((sum, i) => sum + i.file.size, 0);
    const sent = active.reduce((sum, i) => sum + (i.done ? i.file.size : i.sent), 0);
    bar.value = total ? Math.floor((sent / total) * 100) : 100;
  }

  async function uploadOne(item) {
    const file = item.file;
    if (file.size > max) {
      item.end(file.name + " is larger than the upload limit of " + size(max) + ".", "bad");
      return { item, outcome: "failed", message: file.name + " is larger than the upload limit of " + size(max) + "." };
    }
    const started = Date.now();
    const progress = (sent) => {
      item.sent = sent;
      item.progress.value = file.size ? Math.floor((sent / file.size) * 100) : 100;
      overall(item);
      const seconds = (Date.now() - started) / 1000;
      const rate = seconds > 0.5 ? " at " + size(sent / seconds) + "/s" : "";
      item.state.textContent = size(sent) + " of " + size(file.size) + rate;
      say("Uploading " + file.name + ": " + size(sent) + " of " + size(file.size) + rate + "...");
    };
    let plan = null;
    const aborts = new AbortController();
    let xhr = null;
    item.abort = () => { aborts.abort(); if (xhr) xhr.abort(); };
    const watch = (request) => { xhr = request; };
    try {
      plan = await api(base + "/uploads", { filename: file.name, size: file.size, contentType: file.type || null }, aborts.signal);
      if (item.cancelled) throw cancelled();
      progress(0);
      let asset;
      if (plan.method === "POST") {
        asset = JSON.parse((await send("POST", plan.url, file, { "content-type": file.type || "application/octet-stream" }, progress, watch)).responseText);
      } else if (plan.method === "PUT") {
        await send("PUT", plan.url, file, plan.headers, progress, watch);
        asset = await api(base + "/uploads/complete", { uploadId: plan.uploadId }, aborts.signal);
      } else {
        const done = [];
        let sentBefore = 0;
        for (const part of plan.parts) {
          const start = (part.partNumber - 1) * plan.partSize;
          const request = await send("PUT", part.url, file.slice(start, start + part.size), {}, (sent) => progress(sentBefore + sent), watch);
          sentBefore += part.size;
          const etag = request.getResponseHeader("ETag");
          if (!etag) throw new Error("The storage did not return the part's ETag: allow the ETag header in the bucket's CORS rules.");
          done.push({ partNumber: part.partNumber, etag });
        }
        item.state.textContent = "Checking...";
        say("Checking " + file.name + "...");
        asset = await api(base + "/uploads/complete", { uploadId: plan.uploadId, parts: done }, aborts.signal);
      }
      item.abort = null;
      item.progress.value = 100;
      if (known.has(asset.id)) {
        item.end("Same bytes as version " + asset.version + ": kept, no new version.", "ok");
        return { item, outcome: "kept", version: asset.version };
      }
      known.add(asset.id);
      item.end("Uploaded as version " + asset.version + ".", "ok");
      return { item, outcome: "uploaded", version: asset.version };
    } catch (error) {
      item.abort = null;
      if (item.cancelled) {
        // Whatever reached the bucket of a direct upload is dropped; through the app, the
        // broken-off request stored nothing.
        if (plan && plan.uploadId) await api(base + "/uploads/abort", { uploadId: plan.uploadId }).catch(() => {});
        item.progress.value = 0;
        item.end("Cancelled: nothing was kept.");
        return { item, outcome: "cancelled" };
      }
      item.end("Failed: " + error.message, "bad");
      return { item, outcome: "failed", message: file.name + ": " + error.message };
    }
  }

  function summary(all) {
    const lines = [];
    for (const r of all) {
      const name = r.name || r.item.file.name;
      if (r.outcome === "kept") lines.push(name + ": Same bytes as version " + r.version + ": kept, no new version.");
      if (r.outcome === "cancelled") lines.push(name + ": cancelled, nothing kept.");
    }
    return lines;
  }

  function finish() {
    const batch = results.splice(0);
    const uploaded = batch.filter((r) => r.outcome === "uploaded");
    const failed = batch.filter((r) => r.outcome === "failed");
    overall(null);
    if (failed.length) {
      say((uploaded.length ? uploaded.length + " uploaded; " : "") + "the upload failed: " + failed.map((r) => r.message).join(" "), "bad");
      return;
    }
    if (uploaded.length) {
      bar.value = 100;
      say(uploaded.map((r) => r.item.file.name).join(", ") + " uploaded.", "ok");
      // The product's own page, whatever page the form sat on (a refused publish answers at
      // /publish); what the reload would hide is told again there.
      const notes = summary(batch);
      if (notes.length) sessionStorage.setItem("tollgate.uploads", JSON.stringify({ product: form.dataset.product, notes }));
      window.location.assign("/admin/products/" + encodeURIComponent(form.dataset.product) + "?done=" + (uploaded.length > 1 ? "uploaded-many" : "uploaded"));
      return;
    }
    const notes = summary(batch);
    say(notes.join(" ") || "Nothing was uploaded.", notes.some((n) => n.includes("kept, no new version")) ? "ok" : "");
  }

  // Told after the reload that showed the new files: what else happened to that batch.
  const told = JSON.parse(sessionStorage.getItem("tollgate.uploads") || "null");
  sessionStorage.removeItem("tollgate.uploads");
  if (told && told.product === form.dataset.product && told.notes.length) {
    status.hidden = false;
    bar.value = 100;
    say(told.notes.join(" "), "ok");
  }
}

function cancelled() {
  return new Error("cancelled");
}

async function api(url, body, signal) {
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", accept: "application/json" },
    body: JSON.stringify(body),
    signal,
  });
  const data = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(data.message || "the server answered " + res.status);
  return data;
}

function send(method, url, body, headers, onProgress, watch) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    if (watch) watch(xhr);
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
    xhr.onabort = () => reject(cancelled());
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
