// Mask touch-up on the decision page (review/mask_edit.py says what the server does).
//
// Canvases: the photo (its full-size <img>, plus a copy at the working size for zoomed-out
// views), the mask as an offscreen canvas at the working size (at most 3000 px on the long
// side: a 24 MP photo paints on 6 MP), and the view canvas the size of the stage. The mask
// canvas holds the overlay colour with alpha = coverage, so it is drawn as the overlay as
// it is and exported as a PNG whose alpha is the mask. A stroke repaints only the part of
// the view it touched. Saving uploads the mask scaled to the photo's full size.
//
// Keys while the editor is open: b add, x remove, g grow by colour (click), o keep the
// objects clicked (shift-click to pick several), [ ] brush size, z undo, Z redo, v view
// (edit, on white, on a checkerboard, on the profile's background), c before/after,
// 0 fit, 1 100 %, + - zoom, arrows or space-drag to pan, Enter save.
const TINT = [0, 170, 255]; // the overlay: a blue that stands apart from most products
const VIEWS = ["edit", "white", "checker", "profile"];
const MAX_HISTORY_BYTES = 512 * 1024 * 1024;
const MIN_BRUSH = 2, MAX_BRUSH = 400;

let active = null; // the Editor of the item on screen, once opened

class Editor {
  constructor(root) {
    this.root = root;
    const d = root.dataset;
    this.full = { w: Number(d.fullW), h: Number(d.fullH) };
    this.work = { w: Number(d.workW), h: Number(d.workH) };
    this.box = d.maskBox.split(",").map(Number);
    this.profileBg = d.profileBg || "#ffffff";
    this.stage = root.querySelector(".mask-stage");
    this.view = root.querySelector("canvas.mask-view");
    this.cursor = root.querySelector("canvas.mask-cursor");
    this.ctx = this.view.getContext("2d");
    this.status = root.querySelector("[data-role=status]");
    this.mask = canvas(this.work.w, this.work.h);
    this.mctx = this.mask.getContext("2d");
    this.committed = canvas(this.work.w, this.work.h); // the mask before the stroke in progress
    this.original = canvas(this.work.w, this.work.h); // the model's mask, for before/after
    this.tmp = canvas(1, 1);
    this.tool = "add";
    this.brush = 24; // screen pixels: the brush keeps its size on screen as the zoom changes
    this.mode = "edit";
    this.compare = false;
    this.undos = [];
    this.redos = [];
    this.used = new Set();
    this.keepPoints = [];
    this.stroke = null;
    this.pan = null;
    this.spaceDown = false;
    this.ready = this.load();
    this.bind();
  }

  async load() {
    this.say("Loading the photo…");
    // The files may come from a bucket on another origin (a redirect to a signed URL): ask
    // for CORS so the canvas stays readable; the same origin sends the session cookie as before.
    const photo = new Image();
    photo.crossOrigin = "anonymous";
    photo.src = this.root.dataset.photoUrl;
    await photo.decode();
    this.photo = photo;
    // The working-size copy: drawing a 24 MP image shrunk into the view every frame is slow.
    this.photoWork = canvas(this.work.w, this.work.h);
    this.photoWork.getContext("2d").drawImage(photo, 0, 0, this.work.w, this.work.h);
    if (this.root.dataset.maskUrl) {
      const maskImg = new Image();
      maskImg.crossOrigin = "anonymous";
      maskImg.src = this.root.dataset.maskUrl;
      await maskImg.decode();
      const grey = canvas(this.work.w, this.work.h);
      const [l, t, r, b] = this.box;
      const sx = this.work.w / this.full.w, sy = this.work.h / this.full.h;
      grey.getContext("2d").drawImage(maskImg, l * sx, t * sy, (r - l) * sx, (b - t) * sy);
      this.putGrey(grey);
    }
    this.original.getContext("2d").drawImage(this.mask, 0, 0);
    this.committed.getContext("2d").drawImage(this.mask, 0, 0);
    this.resize();
    this.fit();
    this.setTool("add");
    this.say("Ready.");
    this.root.dataset.ready = "1";
  }

  // A grey mask (white = product) into the tinted mask canvas, alpha = grey.
  putGrey(grey) {
    const data = grey.getContext("2d").getImageData(0, 0, this.work.w, this.work.h);
    const px = data.data;
    for (let i = 0; i < px.length; i += 4) {
      const a = px[i + 3] === 0 ? 0 : px[i]; // transparent (unpainted) is backdrop
      px[i] = TINT[0]; px[i + 1] = TINT[1]; px[i + 2] = TINT[2]; px[i + 3] = a;
    }
    this.mctx.putImageData(data, 0, 0);
  }

  bind() {
    this.onResize = () => { this.resize(); this.render(); };
    window.addEventListener("resize", this.onResize);
    const v = this.view;
    v.addEventListener("pointerdown", (e) => this.pointerDown(e));
    v.addEventListener("pointermove", (e) => this.pointerMove(e));
    v.addEventListener("pointerup", (e) => this.pointerUp(e));
    v.addEventListener("pointercancel", (e) => this.pointerUp(e));
    v.addEventListener("pointerleave", () => this.drawCursor(null));
    v.addEventListener("contextmenu", (e) => e.preventDefault());
    v.addEventListener("wheel", (e) => {
      e.preventDefault();
      const p = this.local(e);
      this.zoomAt(p.x, p.y, Math.exp(-e.deltaY * 0.0015));
    }, { passive: false });
    this.root.addEventListener("click", (e) => {
      const button = e.target.closest("[data-action]");
      if (!button || !this.root.contains(button)) return;
      e.preventDefault();
      this.action(button.dataset.action, button.dataset.arg);
    });
  }

  destroy() { window.removeEventListener("resize", this.onResize); }

  // --- geometry -----------------------------------------------------------------------
  resize() {
    const rect = this.stage.getBoundingClientRect();
    this.dpr = window.devicePixelRatio || 1;
    this.cssW = Math.max(1, Math.floor(rect.width));
    this.cssH = Math.max(1, Math.floor(rect.height));
    for (const c of [this.view, this.cursor]) {
      c.width = Math.round(this.cssW * this.dpr);
      c.height = Math.round(this.cssH * this.dpr);
      c.style.width = this.cssW + "px";
      c.style.height = this.cssH + "px";
    }
    this.tmp.width = this.view.width;
    this.tmp.height = this.view.height;
  }

  // scale: CSS px per working-mask px; ox, oy: where the mask's origin is, in CSS px.
  fit() {
    this.scale = Math.min(this.cssW / this.work.w, this.cssH / this.work.h);
    this.ox = (this.cssW - this.work.w * this.scale) / 2;
    this.oy = (this.cssH - this.work.h * this.scale) / 2;
    this.render();
    this.showZoom();
  }

  actualSize() { // one photo pixel per CSS pixel
    this.zoomAt(this.cssW / 2, this.cssH / 2, (this.full.w / this.work.w) / this.scale);
  }

  zoomAt(x, y, factor) {
    const min = Math.min(this.cssW / this.work.w, this.cssH / this.work.h) / 2;
    const max = 8 * this.full.w / this.work.w; // 800 % of the photo
    const next = Math.min(max, Math.max(min, this.scale * factor));
    const f = next / this.scale;
    this.ox = x - (x - this.ox) * f;
    this.oy = y - (y - this.oy) * f;
    this.scale = next;
    this.render();
    this.showZoom();
  }

  panBy(dx, dy) { this.ox += dx; this.oy += dy; this.render(); }

  showZoom() {
    const out = this.root.querySelector("[data-role=zoom]");
    if (out) out.textContent = Math.round(this.scale * this.work.w / this.full.w * 100) + " %";
    this.root.dataset.zoom = String(this.scale * this.work.w / this.full.w);
  }

  local(e) {
    const rect = this.view.getBoundingClientRect();
    return { x: e.clientX - rect.left, y: e.clientY - rect.top };
  }

  toMask(p) { return { x: (p.x - this.ox) / this.scale, y: (p.y - this.oy) / this.scale }; }

  // --- drawing ------------------------------------------------------------------------
  // Repaint the view, or only `rect` of it (CSS px) while a stroke is painted.
  render(rect) {
    if (!this.photo) return;
    const ctx = this.ctx, dpr = this.dpr;
    ctx.save();
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    if (rect) {
      ctx.beginPath();
      ctx.rect(rect.x, rect.y, rect.w, rect.h);
      ctx.clip();
    }
    ctx.fillStyle = "#6b6b6b";
    ctx.fillRect(0, 0, this.cssW, this.cssH);
    const src = this.sourceFor(rect);
    const mask = this.compare ? this.original : this.mask;
    if (this.mode === "edit") {
      this.drawPhoto(ctx, src);
      ctx.globalAlpha = 0.45;
      this.drawRegion(ctx, mask, src, 1);
      ctx.globalAlpha = 1;
    } else {
      ctx.fillStyle = this.mode === "white" ? "#ffffff" : this.mode === "profile" ? this.profileBg : this.checker(ctx);
      ctx.fillRect(this.ox, this.oy, this.work.w * this.scale, this.work.h * this.scale);
      // The cut-out: the photo kept where the mask is, on an intermediate canvas.
      // A stroke touches only `rect`: the intermediate canvas is cleared and copied there only.
      const r = rect || { x: 0, y: 0, w: this.cssW, h: this.cssH };
      const t = this.tmp.getContext("2d");
      t.save();
      t.setTransform(dpr, 0, 0, dpr, 0, 0);
      t.beginPath();
      t.rect(r.x, r.y, r.w, r.h);
      t.clip();
      t.clearRect(r.x, r.y, r.w, r.h);
      this.drawPhoto(t, src);
      t.globalCompositeOperation = "destination-in";
      this.drawRegion(t, mask, src, 1);
      t.restore();
      ctx.setTransform(1, 0, 0, 1, 0, 0);
      const x = Math.max(0, Math.floor(r.x * dpr)), y = Math.max(0, Math.floor(r.y * dpr));
      const w = Math.min(this.tmp.width - x, Math.ceil(r.w * dpr)), h = Math.min(this.tmp.height - y, Math.ceil(r.h * dpr));
      if (w > 0 && h > 0) ctx.drawImage(this.tmp, x, y, w, h, x, y, w, h);
    }
    ctx.restore();
  }

  // The part of the mask (working px) that the view, or `rect` of it, shows.
  sourceFor(rect) {
    const r = rect || { x: 0, y: 0, w: this.cssW, h: this.cssH };
    const x0 = Math.max(0, Math.floor((r.x - this.ox) / this.scale) - 1);
    const y0 = Math.max(0, Math.floor((r.y - this.oy) / this.scale) - 1);
    const x1 = Math.min(this.work.w, Math.ceil((r.x + r.w - this.ox) / this.scale) + 1);
    const y1 = Math.min(this.work.h, Math.ceil((r.y + r.h - this.oy) / this.scale) + 1);
    return { x: x0, y: y0, w: Math.max(0, x1 - x0), h: Math.max(0, y1 - y0) };
  }

  drawRegion(ctx, image, src, k) {
    if (src.w <= 0 || src.h <= 0) return;
    ctx.drawImage(image, src.x * k, src.y * k, src.w * k, src.h * k,
      this.ox + src.x * this.scale, this.oy + src.y * this.scale, src.w * this.scale, src.h * this.scale);
  }

  drawPhoto(ctx, src) {
    // Past the working size the full photo is sharper; the region drawn is then small.
    const zoomedIn = this.scale * this.dpr > 1;
    ctx.imageSmoothingEnabled = !zoomedIn || this.scale < this.full.w / this.work.w;
    if (zoomedIn && this.full.w > this.work.w) this.drawRegion(ctx, this.photo, src, this.full.w / this.work.w);
    else this.drawRegion(ctx, this.photoWork, src, 1);
    ctx.imageSmoothingEnabled = true;
  }

  checker(ctx) {
    if (!this.pattern) {
      const tile = canvas(16, 16), t = tile.getContext("2d");
      t.fillStyle = "#ffffff"; t.fillRect(0, 0, 16, 16);
      t.fillStyle = "#d0d0d0"; t.fillRect(0, 0, 8, 8); t.fillRect(8, 8, 8, 8);
      this.pattern = ctx.createPattern(tile, "repeat");
    }
    return this.pattern;
  }

  drawCursor(p) {
    const c = this.cursor.getContext("2d");
    c.setTransform(1, 0, 0, 1, 0, 0);
    c.clearRect(0, 0, this.cursor.width, this.cursor.height);
    if (!p || (this.tool !== "add" && this.tool !== "remove")) return;
    c.setTransform(this.dpr, 0, 0, this.dpr, 0, 0);
    c.beginPath();
    c.arc(p.x, p.y, this.brush / 2, 0, Math.PI * 2);
    c.lineWidth = 1.5;
    c.strokeStyle = this.tool === "add" ? "#ffffff" : "#000000";
    c.stroke();
  }

  // --- pointer ------------------------------------------------------------------------
  pointerDown(e) {
    if (!this.photo) return;
    const p = this.local(e);
    this.view.setPointerCapture(e.pointerId);
    if (e.button === 1 || e.button === 2 || this.spaceDown) {
      this.pan = { x: p.x, y: p.y, id: e.pointerId };
      return;
    }
    if (e.button !== 0) return;
    e.preventDefault();
    if (this.tool === "grow" || this.tool === "keep") {
      this.click = { p, id: e.pointerId };
      return;
    }
    const m = this.toMask(p);
    this.stroke = { id: e.pointerId, last: m, x0: m.x, y0: m.y, x1: m.x, y1: m.y, r: 0 };
    this.paint(m, m);
  }

  pointerMove(e) {
    const p = this.local(e);
    this.drawCursor(p);
    if (this.pan && e.pointerId === this.pan.id) {
      this.panBy(p.x - this.pan.x, p.y - this.pan.y);
      this.pan.x = p.x; this.pan.y = p.y;
      return;
    }
    if (!this.stroke || e.pointerId !== this.stroke.id) return;
    const events = e.getCoalescedEvents ? e.getCoalescedEvents() : [e];
    let last = this.stroke.last;
    for (const ev of events.length ? events : [e]) {
      const m = this.toMask(this.local(ev));
      this.paint(last, m);
      last = m;
    }
    this.stroke.last = last;
  }

  pointerUp(e) {
    if (this.pan && e.pointerId === this.pan.id) { this.pan = null; return; }
    if (this.click && e.pointerId === this.click.id) {
      const m = this.toMask(this.click.p);
      this.click = null;
      this.clickTool(Math.round(m.x), Math.round(m.y), e.shiftKey);
      return;
    }
    if (!this.stroke || e.pointerId !== this.stroke.id) return;
    performance.mark("mask-stroke-end-start");
    const s = this.stroke;
    this.stroke = null;
    const pad = s.r + 2;
    const x = Math.max(0, Math.floor(s.x0 - pad)), y = Math.max(0, Math.floor(s.y0 - pad));
    const w = Math.min(this.work.w, Math.ceil(s.x1 + pad)) - x, h = Math.min(this.work.h, Math.ceil(s.y1 + pad)) - y;
    if (w <= 0 || h <= 0) return;
    // Undo keeps only the rectangle the stroke touched, before and after.
    const before = this.committed.getContext("2d").getImageData(x, y, w, h);
    const after = this.mctx.getImageData(x, y, w, h);
    this.committed.getContext("2d").putImageData(after, x, y);
    this.push({ x, y, before, after });
    this.used.add("brush");
    this.changed();
    performance.measure("mask-stroke-end", "mask-stroke-end-start");
  }

  // One segment of a stroke, from a to b in mask px, then the view repainted where it changed.
  paint(a, b) {
    performance.mark("mask-stroke-start");
    const r = this.brush / 2 / this.scale;
    const c = this.mctx;
    c.save();
    c.globalCompositeOperation = this.tool === "remove" ? "destination-out" : "source-over";
    c.strokeStyle = c.fillStyle = `rgb(${TINT.join(",")})`;
    c.lineWidth = r * 2;
    c.lineCap = c.lineJoin = "round";
    c.beginPath();
    c.moveTo(a.x, a.y);
    c.lineTo(b.x + (a.x === b.x && a.y === b.y ? 0.01 : 0), b.y);
    c.stroke();
    c.restore();
    const s = this.stroke;
    s.r = Math.max(s.r, r);
    s.x0 = Math.min(s.x0, a.x, b.x); s.y0 = Math.min(s.y0, a.y, b.y);
    s.x1 = Math.max(s.x1, a.x, b.x); s.y1 = Math.max(s.y1, a.y, b.y);
    const pad = r + 2;
    const x = this.ox + (Math.min(a.x, b.x) - pad) * this.scale, y = this.oy + (Math.min(a.y, b.y) - pad) * this.scale;
    this.render({
      x: Math.floor(x), y: Math.floor(y),
      w: Math.ceil((Math.abs(a.x - b.x) + 2 * pad) * this.scale) + 2,
      h: Math.ceil((Math.abs(a.y - b.y) + 2 * pad) * this.scale) + 2,
    });
    performance.measure("mask-stroke", "mask-stroke-start");
  }

  // --- history ------------------------------------------------------------------------
  push(entry) {
    this.undos.push(entry);
    this.redos = [];
    let bytes = this.undos.reduce((n, u) => n + u.before.data.length * 2, 0);
    while (bytes > MAX_HISTORY_BYTES && this.undos.length > 1) {
      const dropped = this.undos.shift();
      bytes -= dropped.before.data.length * 2;
    }
  }

  undo() { this.swapHistory(this.undos, this.redos, "before"); }
  redo() { this.swapHistory(this.redos, this.undos, "after"); }

  swapHistory(from, to, which) {
    const entry = from.pop();
    if (!entry) { this.say(which === "before" ? "Nothing to undo." : "Nothing to redo."); return; }
    this.mctx.putImageData(entry[which], entry.x, entry.y);
    this.committed.getContext("2d").putImageData(entry[which], entry.x, entry.y);
    to.push(entry);
    this.render();
    this.changed();
  }

  changed() {
    this.root.dataset.undos = String(this.undos.length);
    this.root.dataset.redos = String(this.redos.length);
  }

  // Replace the whole mask (a fix's answer) as one undoable step.
  replaceWith(grey) {
    const before = this.mctx.getImageData(0, 0, this.work.w, this.work.h);
    this.putGrey(grey);
    const after = this.mctx.getImageData(0, 0, this.work.w, this.work.h);
    this.committed.getContext("2d").putImageData(after, 0, 0);
    this.push({ x: 0, y: 0, before, after });
    this.render();
    this.changed();
  }

  // --- fixes and saving ------------------------------------------------------------------
  async fix(op, points) {
    this.say("Working…");
    const blob = await toBlob(this.mask);
    const form = new FormData();
    form.append("mask", blob, "mask.png");
    form.append("op", op);
    form.append("points", JSON.stringify(points || []));
    const response = await fetch(this.root.dataset.fixUrl, { method: "POST", body: form, headers: this.headers() });
    if (!response.ok) { this.say(await response.text(), true); return; }
    const img = await createImageBitmap(await response.blob());
    const grey = canvas(this.work.w, this.work.h);
    grey.getContext("2d").drawImage(img, 0, 0, this.work.w, this.work.h);
    this.replaceWith(grey);
    this.used.add(op);
    this.say(FIX_DONE[op] || "Done.");
  }

  clickTool(x, y, shift) {
    if (this.tool === "grow") { this.fix("grow_at", [[x, y]]); return; }
    this.keepPoints.push([x, y]);
    if (shift) { this.say(`${this.keepPoints.length} object(s) picked; click without shift to keep them.`); return; }
    const points = this.keepPoints;
    this.keepPoints = [];
    this.fix("keep_clicked", points);
  }

  async save() {
    if (!this.undos.length) { this.say("Nothing changed: approve it instead (a).", true); return; }
    this.say("Saving…");
    const blob = await this.fullSizePng();
    const form = new FormData();
    form.append("mask", blob, "mask.png");
    form.append("mask_source", this.used.has("brush") ? "hand" : "model_fix");
    form.append("fixes", [...this.used].join(","));
    const response = await fetch(this.root.dataset.saveUrl, {
      method: "POST", body: form, headers: { ...this.headers(), "HX-Request": "true", "HX-Current-URL": location.href },
    });
    const html = await response.text();
    window.htmx.swap("#review-item", html, { swapStyle: "outerHTML" });
  }

  // The mask at the photo's full size as an 8-bit grey PNG (its alpha, scaled up smoothly):
  // a quarter of the bytes of the canvas's own RGBA export to decode on the server.
  async fullSizePng() {
    const full = canvas(this.full.w, this.full.h);
    const f = full.getContext("2d", { willReadFrequently: true });
    f.imageSmoothingQuality = "high";
    f.drawImage(this.mask, 0, 0, this.full.w, this.full.h);
    const w = this.full.w, h = this.full.h;
    const raw = new Uint8Array((w + 1) * h); // each row: filter byte 0, then the grey values
    const band = 256; // rows read back at a time, so the RGBA copy stays small
    for (let y0 = 0; y0 < h; y0 += band) {
      const rows = Math.min(band, h - y0);
      const px = f.getImageData(0, y0, w, rows).data;
      for (let r = 0; r < rows; r++) {
        let o = (y0 + r) * (w + 1) + 1, i = r * w * 4 + 3;
        for (let x = 0; x < w; x++, i += 4) raw[o++] = px[i];
      }
    }
    const idat = new Uint8Array(await new Response(new Blob([raw]).stream().pipeThrough(new CompressionStream("deflate"))).arrayBuffer());
    const header = new Uint8Array(13);
    const view = new DataView(header.buffer);
    view.setUint32(0, w); view.setUint32(4, h);
    header.set([8, 0, 0, 0, 0], 8); // 8-bit, greyscale, deflate, no filter method, no interlace
    return new Blob([PNG_SIGNATURE, pngChunk("IHDR", header), pngChunk("IDAT", idat), pngChunk("IEND", new Uint8Array(0))], { type: "image/png" });
  }

  headers() {
    const token = this.root.querySelector("input[name=csrfmiddlewaretoken]");
    return token ? { "X-CSRFToken": token.value } : {};
  }

  stronger() {
    const form = document.querySelector("#review-item form[action*=reprocess]");
    const radio = form && form.querySelector('input[name=model][value="' + CSS.escape(this.root.dataset.strongerModel) + '"]');
    if (!radio) { this.say("The stronger model is not installed here.", true); return; }
    radio.checked = true;
    form.requestSubmit();
  }

  // --- controls -----------------------------------------------------------------------
  setTool(tool) {
    this.tool = tool;
    this.root.dataset.tool = tool;
    for (const b of this.root.querySelectorAll("[data-action=tool]")) b.setAttribute("aria-pressed", String(b.dataset.arg === tool));
    this.view.style.cursor = tool === "add" || tool === "remove" ? "none" : "crosshair";
    this.say(TOOL_HINT[tool]);
  }

  setBrush(size) {
    this.brush = Math.min(MAX_BRUSH, Math.max(MIN_BRUSH, Math.round(size)));
    const out = this.root.querySelector("[data-role=brush]");
    if (out) out.textContent = this.brush + " px";
  }

  setMode(mode) {
    this.mode = mode;
    this.root.dataset.mode = mode;
    const out = this.root.querySelector("[data-role=mode]");
    if (out) out.textContent = MODE_LABEL[mode];
    this.render();
  }

  action(name, arg) {
    switch (name) {
      case "tool": this.setTool(arg); break;
      case "smaller": this.setBrush(this.brush / 1.25); break;
      case "larger": this.setBrush(this.brush * 1.25); break;
      case "undo": this.undo(); break;
      case "redo": this.redo(); break;
      case "fit": this.fit(); break;
      case "actual": this.actualSize(); break;
      case "zoom-in": this.zoomAt(this.cssW / 2, this.cssH / 2, 1.25); break;
      case "zoom-out": this.zoomAt(this.cssW / 2, this.cssH / 2, 0.8); break;
      case "view": this.setMode(VIEWS[(VIEWS.indexOf(this.mode) + 1) % VIEWS.length]); break;
      case "compare": this.compare = !this.compare; this.root.dataset.compare = String(this.compare); this.render(); break;
      case "fix": this.fix(arg); break;
      case "stronger": this.stronger(); break;
      case "save": this.save(); break;
    }
  }

  say(text, error) {
    if (!this.status) return;
    this.status.textContent = text || "";
    this.status.classList.toggle("error", Boolean(error));
  }
}

const TOOL_HINT = {
  add: "Add brush: paint what belongs to the product.",
  remove: "Remove brush: paint out backdrop or shadow.",
  grow: "Grow by colour: click a part the cut-out left out.",
  keep: "Keep objects: click the object to keep (shift-click to pick several).",
};
const MODE_LABEL = { edit: "Photo + mask", white: "On white", checker: "On checkerboard", profile: "On the profile's background" };
const FIX_DONE = {
  fill_holes: "Holes filled.", keep_largest: "Only the largest object kept.", keep_clicked: "Only the clicked objects kept.",
  drop_shadow: "Shadow under the product dropped.", grow_at: "Part taken back.",
};
const KEYS = {
  b: ["tool", "add"], x: ["tool", "remove"], g: ["tool", "grow"], o: ["tool", "keep"],
  "[": ["smaller"], "]": ["larger"], z: ["undo"], Z: ["redo"], v: ["view"], c: ["compare"],
  "0": ["fit"], "1": ["actual"], "+": ["zoom-in"], "=": ["zoom-in"], "-": ["zoom-out"], Enter: ["save"],
};

function canvas(w, h) {
  const c = document.createElement("canvas");
  c.width = w; c.height = h;
  return c;
}

const PNG_SIGNATURE = new Uint8Array([137, 80, 78, 71, 13, 10, 26, 10]);
const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

function pngChunk(type, data) {
  const out = new Uint8Array(12 + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, data.length);
  for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i);
  out.set(data, 8);
  let crc = 0xffffffff;
  for (let i = 4; i < 8 + data.length; i++) crc = CRC_TABLE[(crc ^ out[i]) & 0xff] ^ (crc >>> 8);
  view.setUint32(8 + data.length, (crc ^ 0xffffffff) >>> 0);
  return out;
}

function toBlob(c) {
  return new Promise((resolve) => c.toBlob(resolve, "image/png"));
}

function openEditor() {
  const root = document.querySelector("#review-item [data-mask-editor]");
  if (!root || !root.open) return null;
  if (!active || active.root !== root) {
    if (active) active.destroy();
    active = new Editor(root);
  }
  return active;
}

document.addEventListener("toggle", (e) => {
  if (e.target.matches && e.target.matches("[data-mask-editor]") && e.target.open) {
    const editor = openEditor();
    if (editor && editor.photo) { editor.resize(); editor.render(); }
  }
}, true);

// Capture phase: while the editor is open its keys win over the page's (review.js).
document.addEventListener("keydown", (e) => {
  if (e.ctrlKey || e.metaKey || e.altKey) return;
  const t = e.target;
  if (t && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName))) return;
  const editor = openEditor();
  if (!editor) return;
  if (e.key === " ") { editor.spaceDown = true; e.preventDefault(); e.stopPropagation(); return; }
  const step = 60;
  const arrows = { ArrowLeft: [step, 0], ArrowRight: [-step, 0], ArrowUp: [0, step], ArrowDown: [0, -step] };
  if (arrows[e.key]) { e.preventDefault(); e.stopPropagation(); editor.panBy(...arrows[e.key]); return; }
  const binding = KEYS[e.key];
  if (!binding) return;
  e.preventDefault();
  e.stopPropagation();
  if (e.repeat && binding[0] !== "smaller" && binding[0] !== "larger") return;
  editor.action(...binding);
}, true);

document.addEventListener("keyup", (e) => { if (e.key === " " && active) active.spaceDown = false; });

// A new item swapped in: the old editor goes with it.
document.addEventListener("htmx:afterSettle", () => {
  if (active && !document.body.contains(active.root)) { active.destroy(); active = null; }
  openEditor();
});

openEditor();
window.lightboxMaskEditor = () => active;
