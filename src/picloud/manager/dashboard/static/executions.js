// Executions tab: "Follow live" listens to the admin API's server-sent events for this script
// and puts each new record at the top of the table, as the server renders its row.
"use strict";

(function () {
  const button = document.getElementById("follow");
  if (!button || !window.EventSource) return;
  const status = document.getElementById("follow-status");
  const rows = document.getElementById("executions");
  let source = null;

  async function addRow(record) {
    if (button.dataset.outcome && record.outcome !== button.dataset.outcome) return;
    if (rows.querySelector(`tr[data-execution="${CSS.escape(record.id)}"]`)) return;
    const response = await fetch(`${button.dataset.rowUrl}/${encodeURIComponent(record.id)}/row`, {
      credentials: "same-origin",
    });
    if (!response.ok || response.redirected) return;  // a redirect: the session ended
    const holder = document.createElement("tbody");
    holder.innerHTML = (await response.text()).trim();
    const row = holder.firstElementChild;
    row.classList.add("fresh");
    rows.prepend(row);
    document.getElementById("no-executions")?.remove();
    status.textContent = `New execution: ${record.method} ${record.path} → ${record.status_code}`;
  }

  function stop() {
    source.close();
    source = null;
    button.textContent = "Follow live";
    button.setAttribute("aria-pressed", "false");
    status.textContent = "Stopped following.";
  }

  function start() {
    source = new EventSource(button.dataset.streamUrl, { withCredentials: true });
    source.addEventListener("open", () => { status.textContent = "Following: new executions appear at the top."; });
    source.addEventListener("execution", (event) => addRow(JSON.parse(event.data)));
    source.addEventListener("error", () => {
      status.textContent = source.readyState === EventSource.CLOSED
        ? "The live stream closed. Reload the page to follow again."
        : "Reconnecting…";
    });
    button.textContent = "Stop following";
    button.setAttribute("aria-pressed", "true");
  }

  button.hidden = false;
  button.addEventListener("click", () => (source ? stop() : start()));
})();
