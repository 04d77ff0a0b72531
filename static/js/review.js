// Review, keyboard first: a approve, r reject (1–5 pick a reason, Enter confirms),
// e reprocess, j/k next/previous, m mask overlay, ? the keys. Each key clicks or opens
// the control in the current item that carries data-key, so the keys and the
// buttons can never disagree.
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

  // Click an image to see it at 100 %, click again to fit.
  document.addEventListener("click", function (event) {
    const zoomable = event.target.closest && event.target.closest(".zoomable");
    if (zoomable) zoomable.classList.toggle("zoomed");
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
