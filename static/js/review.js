// Review, keyboard first: a approve, r reject (1–5 pick a reason, Enter confirms),
// e reprocess, j/k next/previous, m mask overlay, ? the keys. Each key clicks or opens
// the control in the current item that carries data-key, so the keys and the
// buttons can never disagree. A drag on the source photo draws a reprocess crop.
(function () {
  "use strict";

  function typing(el) {
    return el && (el.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(el.tagName));
  }

  function toggleHelp() {
    const help = document.getElementById("review-keys");
    if (!help) return;
    if (help.open) help.close();
    else help.showModal();
  }

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey || event.repeat) return;
    const target = event.target;
    if (event.key === "Escape") {
      const open = document.querySelector("#review-item details[open]");
      if (open) open.open = false;
      return;
    }
    const rejectForm = target.closest && target.closest("form[data-reject]");
    if (rejectForm) {
      if (target.tagName === "TEXTAREA") return;
      if (/^[1-9]$/.test(event.key)) {
        const radio = rejectForm.querySelectorAll("input[type=radio]")[Number(event.key) - 1];
        if (radio) { radio.checked = true; radio.focus(); }
        event.preventDefault();
      } else if (event.key === "Enter") {
        event.preventDefault();
        rejectForm.requestSubmit();
      }
      return; // while choosing a reason, no other shortcut fires
    }
    if (typing(target) && target.type !== "checkbox") return;
    if (event.key === "?") { event.preventDefault(); toggleHelp(); return; }
    const item = document.getElementById("review-item");
    const control = item && item.querySelector('[data-key="' + CSS.escape(event.key) + '"]');
    if (!control) return;
    event.preventDefault();
    if (control.tagName === "DETAILS") {
      control.open = true;
      const first = control.querySelector("input:not([type=hidden]), textarea, select, button");
      if (first) first.focus();
    } else {
      control.click();
    }
  });

  // The mask overlay follows its checkbox.
  document.addEventListener("change", function (event) {
    if (!event.target.classList.contains("mask-toggle")) return;
    const stack = event.target.closest("figure").querySelector(".stack");
    if (stack) stack.classList.toggle("with-mask", event.target.checked);
  });

  // Crop by dragging on the source photo: the box is drawn over the photo and its edges
  // go into the reprocess form's crop fields in SOURCE pixels (the photo is shown scaled),
  // where they can still be typed over; typing moves the box.
  const SIDES = ["left", "top", "right", "bottom"];
  const MIN_DRAG_PX = 4; // less than this is a click (zoom), not a crop
  let drag = null;
  let suppressClick = false;

  function cropParts(area) {
    const item = area.closest("#review-item");
    const fields = {};
    SIDES.forEach(function (side) {
      fields[side] = item && item.querySelector('input[name="crop_' + side + '"]');
    });
    return { img: area.querySelector("img.source"), box: area.querySelector(".crop-box"), fields: fields, item: item };
  }

  // Display pixels per source pixel, per axis (the photo may be fitted or at 100 %).
  function scale(img) {
    return { x: img.naturalWidth / img.clientWidth, y: img.naturalHeight / img.clientHeight };
  }

  function clamp(value, low, high) {
    return Math.min(Math.max(value, low), high);
  }

  // The point under the pointer, in display pixels from the photo's top-left corner.
  function pointIn(img, event) {
    const rect = img.getBoundingClientRect();
    return {
      x: clamp(event.clientX - rect.left, 0, img.clientWidth),
      y: clamp(event.clientY - rect.top, 0, img.clientHeight),
    };
  }

  function placeBox(parts, left, top, width, height) {
    // The box sits in the stack, whose top-left is the photo's.
    const offsetX = parts.img.offsetLeft, offsetY = parts.img.offsetTop;
    parts.box.style.left = offsetX + left + "px";
    parts.box.style.top = offsetY + top + "px";
    parts.box.style.width = width + "px";
    parts.box.style.height = height + "px";
    parts.box.hidden = false;
  }

  function drawDrag(parts, a, b) {
    placeBox(parts, Math.min(a.x, b.x), Math.min(a.y, b.y), Math.abs(b.x - a.x), Math.abs(b.y - a.y));
  }

  function fillFields(parts, a, b) {
    const s = scale(parts.img);
    const w = parts.img.naturalWidth, h = parts.img.naturalHeight;
    const values = {
      left: clamp(Math.floor(Math.min(a.x, b.x) * s.x), 0, w - 1),
      top: clamp(Math.floor(Math.min(a.y, b.y) * s.y), 0, h - 1),
      right: clamp(Math.ceil(Math.max(a.x, b.x) * s.x), 1, w),
      bottom: clamp(Math.ceil(Math.max(a.y, b.y) * s.y), 1, h),
    };
    SIDES.forEach(function (side) {
      const field = parts.fields[side];
      if (field) field.value = String(values[side]);
    });
    const details = parts.item && parts.item.querySelector('details[data-key="e"]');
    if (details) details.open = true;
  }

  // The box from whatever the crop fields say (typed, or after a zoom changed the scale).
  function drawFromFields(area) {
    const parts = cropParts(area);
    if (!parts.img || !parts.box || !parts.img.naturalWidth || !parts.img.clientWidth) return;
    const v = {};
    for (const side of SIDES) {
      const field = parts.fields[side];
      const n = field && field.value.trim() !== "" ? Number(field.value) : NaN;
      if (!Number.isFinite(n)) { parts.box.hidden = true; return; }
      v[side] = n;
    }
    if (v.right <= v.left || v.bottom <= v.top) { parts.box.hidden = true; return; }
    const s = scale(parts.img);
    placeBox(parts, v.left / s.x, v.top / s.y, (v.right - v.left) / s.x, (v.bottom - v.top) / s.y);
  }

  document.addEventListener("pointerdown", function (event) {
    const area = event.button === 0 && event.target.closest && event.target.closest("[data-crop-area]");
    suppressClick = false;
    if (!area) return;
    const parts = cropParts(area);
    if (!parts.img || !parts.box || !parts.img.naturalWidth) return;
    event.preventDefault(); // no native image drag, no text selection
    area.setPointerCapture(event.pointerId);
    drag = { area: area, parts: parts, start: pointIn(parts.img, event), moved: false, pointerId: event.pointerId };
  });

  document.addEventListener("pointermove", function (event) {
    if (!drag || event.pointerId !== drag.pointerId) return;
    const here = pointIn(drag.parts.img, event);
    if (!drag.moved && Math.hypot(here.x - drag.start.x, here.y - drag.start.y) < MIN_DRAG_PX) return;
    drag.moved = true;
    drawDrag(drag.parts, drag.start, here);
  });

  function endDrag(event) {
    if (!drag || event.pointerId !== drag.pointerId) return;
    const finished = drag;
    drag = null;
    if (finished.area.hasPointerCapture(event.pointerId)) finished.area.releasePointerCapture(event.pointerId);
    if (!finished.moved || event.type === "pointercancel") {
      drawFromFields(finished.area);
      return;
    }
    const end = pointIn(finished.parts.img, event);
    suppressClick = true; // the click that ends a drag is not a zoom
    if (Math.abs(end.x - finished.start.x) < 1 || Math.abs(end.y - finished.start.y) < 1) {
      drawFromFields(finished.area);
      return;
    }
    fillFields(finished.parts, finished.start, end);
    drawFromFields(finished.area);
  }
  document.addEventListener("pointerup", endDrag);
  document.addEventListener("pointercancel", endDrag);

  document.addEventListener("input", function (event) {
    const name = event.target.name || "";
    if (!name.startsWith("crop_")) return;
    const area = document.querySelector("#review-item [data-crop-area]");
    if (area) drawFromFields(area);
  });

  // A refused reprocess comes back with its crop in the fields: show it on the photo again.
  function redrawCrop() {
    const area = document.querySelector("#review-item [data-crop-area]");
    const img = area && area.querySelector("img.source");
    if (!img) return;
    if (img.complete) drawFromFields(area);
    else img.addEventListener("load", function () { drawFromFields(area); }, { once: true });
  }
  window.addEventListener("resize", redrawCrop);
  document.body.addEventListener("htmx:afterSettle", redrawCrop);
  redrawCrop();

  // Click an image to see it at 100 %, click again to fit.
  document.addEventListener("click", function (event) {
    if (suppressClick) {
      suppressClick = false;
      if (event.target.closest && event.target.closest("[data-crop-area]")) return;
    }
    const zoomable = event.target.closest && event.target.closest(".zoomable");
    if (!zoomable) return;
    zoomable.classList.toggle("zoomed");
    if (zoomable.matches("[data-crop-area]")) drawFromFields(zoomable);
  });

  // A refused (409) or corrected (422) decision carries a fragment to show, not an error to drop.
  document.body.addEventListener("htmx:beforeSwap", function (event) {
    const status = event.detail.xhr.status;
    if (status === 409 || status === 422) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });
})();
