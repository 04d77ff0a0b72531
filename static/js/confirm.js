// A button with data-confirm="question?" asks before its form is sent (no inline onclick:
// the Content-Security-Policy allows scripts from static files only).
document.addEventListener("click", (event) => {
  const button = event.target.closest("[data-confirm]");
  if (button && !window.confirm(button.dataset.confirm)) event.preventDefault();
});
