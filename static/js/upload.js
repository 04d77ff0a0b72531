// Drag-and-drop uploads: one batch, then each file in its own request with its own
// progress bar (XMLHttpRequest reports upload progress; fetch does not). A file that
// fails keeps its reason and a retry button; the others carry on.
(function () {
  "use strict";
  const root = document.getElementById("dropper");
  if (!root) return;
  root.hidden = false;
  // The batch form only carries fields for the files' requests; it is never submitted.
  document.getElementById("batch-form").addEventListener("submit", (e) => e.preventDefault());
  const csrf = JSON.parse(document.body.getAttribute("hx-headers"))["X-CSRFToken"];
  const input = document.getElementById("file-input");
  const rows = document.getElementById("file-rows");
  const overallBar = document.getElementById("overall-bar");
  const overallText = document.getElementById("overall-text");
  const maxBytes = Number(root.dataset.maxBytes);
  const PARALLEL = 3;
  let batch = null;
  let hasArchive = false;
  const items = [];

  function post(url, body, onProgress) {
    return new Promise((resolve) => {
      const xhr = new XMLHttpRequest();
      xhr.open("POST", url);
      xhr.setRequestHeader("X-CSRFToken", csrf);
      xhr.responseType = "json";
      if (onProgress) xhr.upload.addEventListener("progress", (e) => e.lengthComputable && onProgress(e.loaded / e.total));
      xhr.onload = () => resolve({ status: xhr.status, body: xhr.response || {} });
      xhr.onerror = () => resolve({ status: 0, body: { reason: "The connection dropped; retry this file." } });
      xhr.send(body);
    });
  }

  let batchPromise = null;
  function ensureBatch() {
    // Files go up in parallel: they must all share the one batch created for them.
    if (!batchPromise) {
      batchPromise = (async () => {
        const form = new FormData(document.getElementById("batch-form"));
        const res = await post(root.dataset.createUrl, form);
        if (res.status !== 201) {
          batchPromise = null;
          const errors = (res.body && res.body.errors) || {};
          const why = Object.values(errors).flat().map((e) => e.message || e).join(" ");
          throw new Error(why || "Could not start a batch.");
        }
        batch = res.body;
        const link = document.getElementById("batch-link");
        link.hidden = false;
        link.querySelector("a").href = batch.batch_url;
        return batch;
      })();
    }
    return batchPromise;
  }

  function addRow(file) {
    const tr = document.createElement("tr");
    tr.dataset.testid = "upload-row";
    tr.setAttribute("data-testid", "upload-row");
    const name = document.createElement("td");
    name.textContent = file.name;
    const barCell = document.createElement("td");
    const bar = document.createElement("progress");
    bar.max = 100;
    bar.value = 0;
    const pct = document.createElement("span");
    pct.className = "pct";
    pct.textContent = "0%";
    barCell.append(bar, " ", pct);
    const result = document.createElement("td");
    result.className = "result";
    result.textContent = "waiting";
    tr.append(name, barCell, result);
    rows.append(tr);
    return { file, bar, pct, result, tr, done: false, ok: false };
  }

  function refreshOverall() {
    const total = items.reduce((s, i) => s + i.file.size, 0) || 1;
    const sent = items.reduce((s, i) => s + i.file.size * (i.bar.value / 100), 0);
    const done = items.filter((i) => i.done).length;
    overallBar.value = Math.round((100 * sent) / total);
    overallText.textContent = `${done} of ${items.length} file(s) sent`;
  }

  // A file the server could not place (no SKU in its name) gets a SKU field of its own.
  function askForSku(item) {
    const field = document.createElement("input");
    field.type = "text";
    field.placeholder = "SKU for this file";
    field.setAttribute("aria-label", `SKU for ${item.file.name}`);
    field.className = "row-sku";
    const go = document.createElement("button");
    go.type = "button";
    go.textContent = "Send";
    go.onclick = () => {
      if (!field.value.trim()) return;
      item.sku = field.value.trim();
      item.done = false;
      field.remove();
      go.remove();
      run([item]);
    };
    item.result.append(" ", field, " ", go);
  }

  async function send(item) {
    item.result.textContent = "uploading";
    if (item.file.size > maxBytes && !item.file.name.toLowerCase().endsWith(".zip")) {
      return finish(item, false, `Larger than the ${Math.round(maxBytes / 1048576)} MB limit.`);
    }
    let b;
    try {
      b = await ensureBatch();
    } catch (err) {
      return finish(item, false, err.message);
    }
    const form = new FormData();
    form.append("file", item.file, item.file.name);
    const sku = item.sku || document.querySelector("#batch-form [name=sku]").value.trim();
    if (sku) form.append("sku", sku);
    const res = await post(b.files_url, form, (share) => {
      item.bar.value = Math.round(share * 100);
      item.pct.textContent = `${item.bar.value}%`;
      refreshOverall();
    });
    if (res.status === 429) {
      // Over the per-user upload rate: wait as long as the server says, then send it again.
      const wait = Math.max(1, Number(res.body.retry_after) || 5);
      item.result.textContent = `${res.body.reason || "Too many uploads."} Sending again in ${wait} s…`;
      await new Promise((resolve) => setTimeout(resolve, wait * 1000));
      return send(item);
    }
    const ok = res.status >= 200 && res.status < 300;
    if (ok) {
      item.bar.value = 100;
      item.pct.textContent = "100%";
      if (res.body.kind === "archive") hasArchive = true;
    }
    const text = ok
      ? res.body.kind === "archive" ? "received; unpacking on the server"
        : res.body.kind === "manifest" ? `manifest with ${res.body.rows} row(s)`
        : `queued for ${res.body.sku}`
      : res.body.reason || `failed (HTTP ${res.status})`;
    finish(item, ok, text, res.status === 0);
    if (!ok && (res.body.reason || "").startsWith("No SKU")) askForSku(item);
  }

  function finish(item, ok, text, retryable) {
    item.done = true;
    item.ok = ok;
    item.result.textContent = text;
    item.tr.classList.toggle("failed", !ok);
    if (!ok && retryable) {
      const retry = document.createElement("button");
      retry.type = "button";
      retry.className = "secondary outline";
      retry.textContent = "Retry";
      retry.onclick = () => { item.done = false; retry.remove(); run([item]); };
      item.result.append(" ", retry);
    }
    refreshOverall();
  }

  async function run(queue) {
    const pending = queue.slice();
    const workers = Array.from({ length: PARALLEL }, async () => {
      while (pending.length) await send(pending.shift());
    });
    await Promise.all(workers);
    const waiting = items.some((i) => !i.ok && i.result.querySelector(".row-sku"));
    if (items.every((i) => i.done) && batch && !waiting) {
      const form = new FormData();
      if (hasArchive) form.append("pending_archive", "1");
      await post(batch.close_url, form);
      overallText.textContent += " — all sent.";
    }
  }

  function accept(fileList) {
    let files = Array.from(fileList);
    // A manifest first, so the photos after it are matched by it; one ZIP per batch.
    files.sort((a, b) => (b.name.toLowerCase().endsWith(".csv") ? 1 : 0) - (a.name.toLowerCase().endsWith(".csv") ? 1 : 0));
    if (!files.length) return;
    document.getElementById("overall").hidden = false;
    document.getElementById("file-table").hidden = false;
    const fresh = files.map(addRow);
    items.push(...fresh);
    refreshOverall();
    run(fresh);
  }

  input.addEventListener("change", () => { accept(input.files); input.value = ""; });
  const zone = root.querySelector(".dropzone");
  ["dragenter", "dragover"].forEach((t) => zone.addEventListener(t, (e) => { e.preventDefault(); zone.classList.add("over"); }));
  ["dragleave", "drop"].forEach((t) => zone.addEventListener(t, (e) => { e.preventDefault(); zone.classList.remove("over"); }));
  zone.addEventListener("drop", (e) => accept(e.dataTransfer.files));
})();
