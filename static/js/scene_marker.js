// The scene template marker: drag on the photo for the placement area, click for the surface
// line. Everything is kept in the photo's own pixels, in the form's fields, which a person
// can also type into; the overlay follows the fields.
(function () {
  "use strict";
  const root = document.querySelector("[data-scene-marker]");
  const form = document.querySelector("[data-scene-form]");
  if (!root || !form) return;
  const photo = root.querySelector("img");
  const areaBox = root.querySelector(".scene-area");
  const line = root.querySelector(".scene-surface");
  const width = Number(root.dataset.width);
  const height = Number(root.dataset.height);
  const field = (name) => form.elements.namedItem(name);
  const modes = document.querySelectorAll("input[name=scene-mode]");

  function mode() {
    const checked = document.querySelector("input[name=scene-mode]:checked");
    return checked ? checked.value : "area";
  }

  function toPhoto(event) {
    const rect = photo.getBoundingClientRect();
    const x = Math.round(((event.clientX - rect.left) / rect.width) * width);
    const y = Math.round(((event.clientY - rect.top) / rect.height) * height);
    return [Math.min(width, Math.max(0, x)), Math.min(height, Math.max(0, y))];
  }

  function draw() {
    const scale = photo.clientWidth / width;
    const left = Number(field("area_left").value), top = Number(field("area_top").value);
    const right = Number(field("area_right").value), bottom = Number(field("area_bottom").value);
    const surface = Number(field("surface_y").value);
    areaBox.style.left = left * scale + "px";
    areaBox.style.top = top * scale + "px";
    areaBox.style.width = Math.max(0, right - left) * scale + "px";
    areaBox.style.height = Math.max(0, bottom - top) * scale + "px";
    line.style.left = left * scale + "px";
    line.style.width = Math.max(0, right - left) * scale + "px";
    line.style.top = surface * scale + "px";
  }

  let start = null;
  photo.addEventListener("pointerdown", (event) => {
    event.preventDefault();
    if (mode() === "surface") {
      field("surface_y").value = toPhoto(event)[1];
      draw();
      return;
    }
    start = toPhoto(event);
    photo.setPointerCapture(event.pointerId);
  });
  photo.addEventListener("pointermove", (event) => {
    if (!start) return;
    const [x, y] = toPhoto(event);
    field("area_left").value = Math.min(start[0], x);
    field("area_right").value = Math.max(start[0], x);
    field("area_top").value = Math.min(start[1], y);
    field("area_bottom").value = Math.max(start[1], y);
    draw();
  });
  photo.addEventListener("pointerup", () => {
    start = null;
  });
  document.addEventListener("keydown", (event) => {
    if (event.target instanceof HTMLInputElement && event.target.type !== "radio") return;
    const wanted = { a: "area", s: "surface" }[event.key];
    if (!wanted) return;
    modes.forEach((radio) => {
      radio.checked = radio.value === wanted;
    });
  });
  form.addEventListener("input", draw);
  window.addEventListener("resize", draw);
  if (photo.complete) draw();
  else photo.addEventListener("load", draw);
})();
