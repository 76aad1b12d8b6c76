// botflow dashboard charts: the ratings distribution and the trend, drawn with Chart.js (its UMD
// build, served by the app from node_modules: /dashboard/vendor/chart.umd.min.js). Each chart has
// a text alternative: the canvas's accessible name summarises it and a visually hidden table
// beside it holds every value; without Chart.js (it failed to load) that table is shown instead.
"use strict";
(() => {
  const charts = new Map();

  function colours() {
    const css = getComputedStyle(document.documentElement);
    const v = (name, fallback) => css.getPropertyValue(name).trim() || fallback;
    return { accent: v("--accent", "#1f6feb"), bad: v("--bad", "#b42318"), muted: v("--muted", "#5b626d"), line: v("--line", "#d0d4da"), fg: v("--fg", "#1b1d21"), soft: v("--accent-soft", "rgba(31,111,235,.25)") };
  }

  function el(tag, attrs, text) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, String(v));
    if (text !== undefined) e.textContent = text;
    return e;
  }

  /** Shows the chart or its empty message; with no charting library, the data table. */
  function frame(box, hasData) {
    const canvas = box.querySelector("canvas");
    const table = box.querySelector("table.chart-data");
    box.querySelector(".chart-empty").hidden = hasData;
    box.querySelector(".chart").hidden = !hasData || !window.Chart;
    table.classList.toggle("visually-hidden", Boolean(window.Chart));
    table.hidden = !hasData;
    const old = charts.get(canvas.id);
    if (old) { old.destroy(); charts.delete(canvas.id); }
    return { canvas, rows: table.querySelector("tbody") };
  }

  function draw(canvas, config) {
    if (!window.Chart) return;
    const c = colours();
    window.Chart.defaults.color = c.muted;
    window.Chart.defaults.borderColor = c.line;
    window.Chart.defaults.font.family = getComputedStyle(document.body).fontFamily;
    charts.set(canvas.id, new window.Chart(canvas, config));
  }

  const base = { responsive: true, maintainAspectRatio: false, animation: false };

  /** The distribution of recorded values (1–5 always shows all five bars). */
  function distribution(box, f) {
    const counts = new Map(Object.entries(f.distribution || {}).map(([v, n]) => [Number(v), n]));
    if (f.scale === "1-5") for (let v = 1; v <= 5; v++) if (!counts.has(v)) counts.set(v, 0);
    const entries = [...counts.entries()].sort((a, b) => a[0] - b[0]);
    const total = entries.reduce((s, e) => s + e[1], 0);
    const { canvas, rows } = frame(box, total > 0);
    rows.replaceChildren();
    if (total === 0) return;
    for (const [v, n] of entries) {
      const tr = el("tr", { "data-value": v, "data-count": n });
      tr.append(el("td", {}, String(v)), el("td", {}, String(n)));
      rows.append(tr);
    }
    canvas.setAttribute("aria-label", "Ratings distribution — " + entries.map(([v, n]) => v + ": " + n).join(", "));
    const c = colours();
    const five = f.scale === "1-5";
    const share = (n) => (total ? ((100 * n) / total).toFixed(1) + " %" : "");
    draw(canvas, {
      type: "bar",
      data: {
        labels: entries.map(([v]) => String(v)),
        datasets: [{ label: "Surveys", data: entries.map(([, n]) => n), backgroundColor: entries.map(([v]) => (five && v <= 2 ? c.bad : five && v === 3 ? c.muted : c.accent)), borderRadius: 4, maxBarThickness: 56 }],
      },
      options: {
        ...base,
        plugins: {
          legend: { display: false },
          tooltip: { callbacks: { title: (items) => "Rating " + items[0].label, label: (item) => item.raw + " survey" + (item.raw === 1 ? "" : "s") + " (" + share(item.raw) + ")" } },
        },
        scales: {
          x: { title: { display: true, text: "Rating" }, grid: { display: false } },
          y: { beginAtZero: true, title: { display: true, text: "Surveys" }, ticks: { precision: 0 } },
        },
      },
    });
  }

  function pointLabel(date, granularity) {
    const d = new Date(date + "T00:00:00Z");
    if (granularity === "month") return d.toLocaleDateString("en-GB", { month: "short", year: "numeric", timeZone: "UTC" });
    return (granularity === "week" ? "wk " : "") + d.toLocaleDateString("en-GB", { day: "numeric", month: "short", timeZone: "UTC" });
  }

  /** The average per point (line, left axis, the scale's range) over the surveys per point (bars, right axis). */
  function trend(box, f) {
    const points = (f.trend && f.trend.points) || [];
    const granularity = (f.trend && f.trend.granularity) || "day";
    const per = { day: "daily", week: "weekly", month: "monthly" }[granularity] || "daily";
    document.getElementById("trend-unit").textContent = "(" + per + " average and surveys)";
    const rated = points.filter((p) => p.average !== null);
    const { canvas, rows } = frame(box, rated.length > 0);
    rows.replaceChildren();
    if (rated.length === 0) return;
    for (const p of points) {
      const tr = el("tr", { "data-date": p.date });
      tr.append(el("td", {}, p.date), el("td", {}, p.average === null ? "–" : p.average.toFixed(2)), el("td", {}, String(p.surveys)));
      rows.append(tr);
    }
    const first = rated[0], last = rated[rated.length - 1];
    canvas.setAttribute("aria-label", per[0].toUpperCase() + per.slice(1) + " average, " + rated.length + " of " + points.length + " points rated, from " + first.average.toFixed(2) + " on " + first.date + " to " + last.average.toFixed(2) + " on " + last.date);
    const c = colours();
    const range = /^(-?\d+)-(-?\d+)$/.exec(f.scale || "");
    // Few points (one day of data): a dot large enough to see, a bar no wider than a bar, room at the sides.
    const few = points.length <= 3;
    draw(canvas, {
      data: {
        labels: points.map((p) => pointLabel(p.date, granularity)),
        datasets: [
          { type: "line", label: "Average", data: points.map((p) => p.average), yAxisID: "y", borderColor: c.accent, backgroundColor: c.accent, borderWidth: 2.5, pointRadius: few ? 6 : points.length > 40 ? 0 : 3, pointHoverRadius: few ? 8 : 5, cubicInterpolationMode: "monotone", spanGaps: false, clip: 8, order: 1 },
          { type: "bar", label: "Surveys", data: points.map((p) => p.surveys), yAxisID: "y1", backgroundColor: c.soft, borderRadius: 3, maxBarThickness: 48, order: 2 },
        ],
      },
      options: {
        ...base,
        interaction: { mode: "index", intersect: false },
        plugins: {
          legend: { display: true, position: "bottom", labels: { boxWidth: 12 } },
          tooltip: {
            callbacks: {
              title: (items) => points[items[0].dataIndex].date,
              label: (item) => (item.dataset.label === "Average" ? "Average " + (item.raw === null ? "–" : item.raw.toFixed(2)) : "Surveys " + item.raw),
              footer: (items) => {
                const p = points[items[0].dataIndex];
                return p.cdsat === null ? "" : "CDSAT " + (p.cdsat * 100).toFixed(1) + " % of " + p.rated + " rating" + (p.rated === 1 ? "" : "s");
              },
            },
          },
        },
        scales: {
          x: { grid: { display: false }, offset: true, ticks: { maxRotation: 0, autoSkipPadding: 12 } },
          y: { position: "left", title: { display: true, text: "Average" }, ...(range ? { min: Number(range[1]), max: Number(range[2]) } : {}) },
          y1: { position: "right", beginAtZero: true, title: { display: true, text: "Surveys" }, ticks: { precision: 0 }, grid: { display: false } },
        },
      },
    });
  }

  /** Volume per point: the dialogues the statistics know of, and the completed surveys among them (bars side by side). */
  function volume(box, f) {
    const points = (f.trend && f.trend.points) || [];
    const granularity = (f.trend && f.trend.granularity) || "day";
    const per = { day: "day", week: "week", month: "month" }[granularity] || "day";
    document.getElementById("volume-unit").textContent = "(dialogues and surveys per " + per + ")";
    const total = points.reduce((n, p) => n + p.dialogues, 0);
    const { canvas, rows } = frame(box, total > 0);
    rows.replaceChildren();
    if (total === 0) return;
    for (const p of points) {
      const tr = el("tr", { "data-date": p.date, "data-dialogues": p.dialogues, "data-surveys": p.surveys });
      tr.append(el("td", {}, p.date), el("td", {}, String(p.dialogues)), el("td", {}, String(p.surveys)), el("td", {}, String(p.rated)));
      rows.append(tr);
    }
    const busiest = points.reduce((a, p) => (p.dialogues > a.dialogues ? p : a), points[0]);
    canvas.setAttribute("aria-label", "Dialogues and surveys per " + per + ": " + total + " dialogues and " + points.reduce((n, p) => n + p.surveys, 0) + " surveys over " + points.length + " point" + (points.length === 1 ? "" : "s") + ", the most on " + busiest.date + " (" + busiest.dialogues + " dialogues)");
    const c = colours();
    draw(canvas, {
      type: "bar",
      data: {
        labels: points.map((p) => pointLabel(p.date, granularity)),
        datasets: [
          { label: "Dialogues", data: points.map((p) => p.dialogues), backgroundColor: c.soft, borderColor: c.accent, borderWidth: 1, borderRadius: 3, maxBarThickness: 40 },
          { label: "Surveys", data: points.map((p) => p.surveys), backgroundColor: c.accent, borderRadius: 3, maxBarThickness: 40 },
        ],
      },
      options: {
        ...base,
        interaction: { mode: "index", intersect: false },
        plugins: {
          legend: { display: true, position: "bottom", labels: { boxWidth: 12 } },
          tooltip: { callbacks: { title: (items) => points[items[0].dataIndex].date, footer: (items) => { const p = points[items[0].dataIndex]; return p.surveyPercentage === null ? "" : "Survey percentage " + (p.surveyPercentage * 100).toFixed(1) + " %"; } } },
        },
        scales: {
          x: { grid: { display: false }, ticks: { maxRotation: 0, autoSkipPadding: 12 } },
          y: { beginAtZero: true, title: { display: true, text: "Count" }, ticks: { precision: 0 } },
        },
      },
    });
  }

  window.botflowCharts = { distribution, trend, volume };
})();
