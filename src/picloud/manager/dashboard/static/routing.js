// Routing tab: while a route is typed, ask the server how it reads it (the path and host kinds)
// and whether it would conflict; the answer is a server-rendered fragment put under the form.
"use strict";

(function () {
  const form = document.getElementById("route-form");
  if (!form) return;
  const verdict = document.getElementById("route-verdict");
  let timer = null;
  let latest = 0;

  async function check() {
    if (!form.elements.path.value.trim()) {
      verdict.replaceChildren();
      return;
    }
    const ticket = ++latest;
    const response = await fetch(form.dataset.checkUrl, {
      method: "POST",
      body: new FormData(form),
      credentials: "same-origin",
    });
    // Answers can arrive out of order; only the newest one describes what is in the form. A
    // redirect means the session ended (it leads to the login page): keep the page as it is.
    if (ticket !== latest || !response.ok || response.redirected) return;
    verdict.innerHTML = await response.text();
  }

  form.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(check, 250);
  });
  form.addEventListener("change", () => {
    clearTimeout(timer);
    check();
  });
})();
