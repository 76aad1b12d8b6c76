// botflow CSAT dashboard: reads /api/stats (see app/stats-routes.ts) and redraws every few
// seconds, so new surveys appear without a reload. Plain browser JavaScript, no build step.
"use strict";
(() => {
  const SVG = "http://www.w3.org/2000/svg";
  const params = new URLSearchParams(location.search);
  const refreshMs = Math.max(1, Number(params.get("refresh")) || 5) * 1000;
  const tz = Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
  const form = document.getElementById("filters");
  const updated = document.getElementById("updated");
  const body = document.querySelector("#dialogues tbody");
  const more = document.getElementById("more");
  const empty = document.getElementById("empty");
  const surveysOnly = document.getElementById("surveys-only");
  const exportLink = document.getElementById("export");
  let nextCursor = null;
  let lastFigures = "";
  let timer = null;

  const day = (d) => d.toLocaleDateString("en-CA", { timeZone: tz }); // YYYY-MM-DD
  const pct = (x) => (x === null || x === undefined ? "–" : (x * 100).toFixed(1) + "%");

  function query(extra) {
    const q = new URLSearchParams();
    for (const [k, v] of new FormData(form)) if (String(v).trim() !== "") q.set(k, String(v).trim());
    q.set("tz", tz);
    for (const [k, v] of Object.entries(extra || {})) q.set(k, v);
    return q;
  }

  async function getJson(path) {
    const res = await fetch(path, { headers: { accept: "application/json" }, credentials: "same-origin" });
    if (res.status === 401) { location.href = "/dashboard/login"; throw new Error("login needed"); }
    const data = await res.json();
    if (!res.ok) throw new Error(data.message || res.statusText);
    return data;
  }

  function el(tag, attrs, text) {
    const e = tag.startsWith("svg:") ? document.createElementNS(SVG, tag.slice(4)) : document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, String(v));
    if (text !== undefined) e.textContent = text;
    return e;
  }

  function renderCards(f) {
    const values = {
      average: f.average === null ? "–" : f.average.toFixed(2),
      cdsat: pct(f.cdsat),
      surveys: String(f.surveys),
      surveyPercentage: pct(f.surveyPercentage),
      responseRate: pct(f.responseRate),
      nps: f.nps === null ? "–" : String(Math.round(f.nps * 100)),
    };
    for (const [k, v] of Object.entries(values)) document.querySelector('[data-figure="' + k + '"]').textContent = v;
    document.getElementById("notes").textContent = f.notes.join(" ");
  }

  function renderDistribution(f) {
    const box = document.getElementById("distribution");
    const entries = Object.entries(f.distribution).map(([v, n]) => [Number(v), n]).sort((a, b) => a[0] - b[0]);
    if (f.scale === "1-5") for (let v = 1; v <= 5; v++) if (!entries.some((e) => e[0] === v)) entries.push([v, 0]);
    entries.sort((a, b) => a[0] - b[0]);
    box.replaceChildren();
    if (entries.length === 0) { box.append(el("p", { class: "muted" }, "No ratings in this period.")); return; }
    const W = 320, H = 180, pad = 24, max = Math.max(1, ...entries.map((e) => e[1]));
    const label = entries.map(([v, n]) => v + ": " + n).join(", ");
    const svg = el("svg:svg", { viewBox: "0 0 " + W + " " + H, role: "img", "aria-label": "Ratings distribution — " + label });
    const bw = (W - pad * 2) / entries.length;
    entries.forEach(([v, n], i) => {
      const h = ((H - pad * 2) * n) / max;
      const x = pad + i * bw + bw * 0.15;
      const rect = el("svg:rect", { class: "bar-rect", x, y: H - pad - h, width: bw * 0.7, height: Math.max(h, n > 0 ? 1 : 0), "data-value": v, "data-count": n });
      rect.append(el("svg:title", {}, v + ": " + n));
      svg.append(rect);
      svg.append(el("svg:text", { x: x + bw * 0.35, y: H - pad + 14, "text-anchor": "middle" }, String(v)));
      svg.append(el("svg:text", { x: x + bw * 0.35, y: H - pad - h - 4, "text-anchor": "middle" }, String(n)));
    });
    svg.append(el("svg:line", { class: "axis", x1: pad, x2: W - pad, y1: H - pad, y2: H - pad }));
    box.append(svg);
  }

  function renderTrend(f) {
    const box = document.getElementById("trend");
    // One point per day, ISO week or month: the API picks it from the period's length.
    const days = f.trend.points;
    const per = { day: "daily", week: "weekly", month: "monthly" }[f.trend.granularity] || "daily";
    document.getElementById("trend-unit").textContent = "(" + per + " average)";
    box.replaceChildren();
    const points = days.map((d, i) => [i, d.average]).filter((p) => p[1] !== null);
    if (points.length === 0) { box.append(el("p", { class: "muted" }, "No ratings in this period.")); return; }
    const W = 320, H = 180, pad = 28;
    const scale = /^(-?\d+)-(-?\d+)$/.exec(f.scale || "");
    const lo = scale ? Number(scale[1]) : Math.min(...points.map((p) => p[1]));
    const hi = scale ? Number(scale[2]) : Math.max(...points.map((p) => p[1]));
    const x = (i) => pad + ((W - pad * 2) * i) / Math.max(1, days.length - 1);
    const y = (v) => H - pad - ((H - pad * 2) * (v - lo)) / Math.max(1e-9, hi - lo);
    const label = points.map(([i, v]) => days[i].date + ": " + v.toFixed(2)).join(", ");
    const svg = el("svg:svg", { viewBox: "0 0 " + W + " " + H, role: "img", "aria-label": per[0].toUpperCase() + per.slice(1) + " average — " + label });
    svg.append(el("svg:line", { class: "axis", x1: pad, x2: W - pad, y1: H - pad, y2: H - pad }));
    svg.append(el("svg:text", { x: 2, y: y(hi) + 4 }, String(hi)));
    svg.append(el("svg:text", { x: 2, y: y(lo) + 4 }, String(lo)));
    svg.append(el("svg:path", { class: "line", d: points.map(([i, v], k) => (k ? "L" : "M") + x(i).toFixed(1) + " " + y(v).toFixed(1)).join(" ") }));
    for (const [i, v] of points) {
      const dot = el("svg:circle", { class: "dot", cx: x(i), cy: y(v), r: 3.5 });
      dot.append(el("svg:title", {}, days[i].date + ": " + v.toFixed(2)));
      svg.append(dot);
    }
    svg.append(el("svg:text", { x: pad, y: H - 6 }, days[0].date));
    svg.append(el("svg:text", { x: W - pad, y: H - 6, "text-anchor": "end" }, days[days.length - 1].date));
    box.append(svg);
  }

  function appendRows(rows) {
    for (const r of rows) {
      const tr = el("tr");
      tr.append(el("td", {}, new Date(r.dialogueStartedAt).toLocaleString()));
      tr.append(el("td", {}, r.scenarioId));
      tr.append(el("td", {}, r.channel + (r.botId ? " / " + r.botId : "")));
      tr.append(el("td", { class: "csat" }, r.score === null ? (r.denied ? "declined" : "–") : String(r.score)));
      tr.append(el("td", { class: "comment" }, r.comment || ""));
      body.append(tr);
    }
  }

  async function loadDialogues(reset) {
    const q = query(surveysOnly.checked ? { surveysOnly: "1", limit: "25" } : { limit: "25" });
    if (!reset && nextCursor) q.set("cursor", nextCursor);
    const page = await getJson("/api/stats/dialogues?" + q);
    if (reset) body.replaceChildren();
    appendRows(page.rows);
    nextCursor = page.nextCursor;
    more.hidden = !nextCursor;
    empty.hidden = body.children.length > 0;
  }

  async function refresh(force) {
    try {
      const q = query();
      exportLink.href = "/api/stats/export.csv?" + query(surveysOnly.checked ? { surveysOnly: "1" } : {});
      const figures = await getJson("/api/stats/figures?" + q);
      const key = JSON.stringify(figures);
      if (force || key !== lastFigures) {
        lastFigures = key;
        renderCards(figures);
        renderDistribution(figures);
        renderTrend(figures);
        await loadDialogues(true);
      }
      updated.textContent = "Updated " + new Date().toLocaleTimeString();
    } catch (err) {
      updated.textContent = "Could not update: " + err.message;
    }
  }

  function schedule() {
    clearTimeout(timer);
    timer = setTimeout(async () => {
      if (!document.hidden) await refresh(false);
      schedule();
    }, refreshMs);
  }

  async function init() {
    const now = new Date();
    form.elements.from.value = params.get("from") || day(new Date(now.getTime() - 29 * 86400000));
    form.elements.to.value = params.get("to") || day(now);
    try {
      const options = await getJson("/api/stats/options");
      for (const s of options.scenarios) form.elements.scenario.append(el("option", { value: s.id }, s.name ? s.name + " (" + s.id + ")" : s.id));
      for (const c of options.channels) form.elements.channel.append(el("option", { value: c }, c));
    } catch { /* filters stay "All" */ }
    for (const k of ["scenario", "channel", "bot"]) if (params.get(k)) form.elements[k].value = params.get(k);
    form.addEventListener("submit", (ev) => { ev.preventDefault(); refresh(true); schedule(); });
    surveysOnly.addEventListener("change", () => refresh(true));
    more.addEventListener("click", () => loadDialogues(false).catch((err) => (updated.textContent = err.message)));
    await refresh(true);
    schedule();
  }

  init();
})();
