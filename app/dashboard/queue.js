// botflow queue view: counts by state and the dead letter, refreshed every 5 seconds.
"use strict";
(() => {
  const counts = document.getElementById("counts");
  const body = document.querySelector("#dead tbody");
  const updated = document.getElementById("updated");
  const replay = document.getElementById("replay");

  function cell(tag, text, cls) {
    const e = document.createElement(tag);
    e.textContent = text;
    if (cls) e.className = cls;
    return e;
  }

  async function refresh() {
    try {
      const res = await fetch("/api/queue", { credentials: "same-origin" });
      if (res.status === 401) { location.href = "/dashboard/login"; return; }
      const q = await res.json();
      if (!res.ok) throw new Error(q.message);
      counts.replaceChildren(...Object.entries(q.counts).map(([state, n]) => {
        const card = cell("div", "", "card");
        card.append(cell("dt", state), cell("dd", String(n)));
        card.dataset.state = state;
        return card;
      }));
      body.replaceChildren(...q.dead.map((d) => {
        const tr = document.createElement("tr");
        tr.append(cell("td", d.jobId), cell("td", String(d.attemptsMade)), cell("td", d.failedReason), cell("td", d.deadAt ? new Date(d.deadAt).toLocaleString() : "–"));
        return tr;
      }));
      replay.disabled = q.dead.length === 0;
      updated.textContent = q.mode + " queue, updated " + new Date().toLocaleTimeString();
    } catch (err) {
      updated.textContent = "Could not update: " + err.message;
    }
  }

  replay.addEventListener("click", async () => {
    replay.disabled = true;
    const res = await fetch("/api/queue/replay-dead", { method: "POST", credentials: "same-origin" });
    const r = await res.json().catch(() => ({}));
    updated.textContent = res.ok ? "Replayed " + r.replayed + " event(s)" : "Replay failed";
    await refresh();
  });

  refresh();
  setInterval(() => { if (!document.hidden) refresh(); }, 5000);
})();
