// PiCloud dashboard: small enhancements on top of pages that work without JavaScript.
"use strict";

// Copy buttons: <button data-copy-target="ID"> copies the text of element ID.
document.addEventListener("click", async (event) => {
  const button = event.target.closest("[data-copy-target]");
  if (!button) return;
  const source = document.getElementById(button.dataset.copyTarget);
  const text = source.value ?? source.textContent;
  try {
    await navigator.clipboard.writeText(text.trim());
  } catch {
    // Clipboard API refused (e.g. plain http on another host): select the text instead.
    const range = document.createRange();
    range.selectNodeContents(source);
    window.getSelection().removeAllRanges();
    window.getSelection().addRange(range);
    document.execCommand("copy");
  }
  const status = document.getElementById(button.dataset.copyStatus || "") || button;
  const before = status.textContent;
  status.textContent = "Copied";
  setTimeout(() => { status.textContent = before; }, 2000);
});

// Dangerous forms: the submit button stays disabled until the typed text equals
// data-confirm-value. The server checks the same thing; this only saves a round trip.
for (const input of document.querySelectorAll("input[data-confirm-value]")) {
  const button = input.form.querySelector("button[type=submit]");
  const sync = () => { button.disabled = input.value !== input.dataset.confirmValue; };
  input.addEventListener("input", sync);
  sync();
}

// Selects that filter a listing submit their form at once.
for (const select of document.querySelectorAll("select[data-autosubmit]")) {
  select.addEventListener("change", () => select.form.requestSubmit());
}
