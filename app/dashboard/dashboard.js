// botflow CSAT dashboard: reads /api/stats (see app/stats-routes.ts) and redraws every few
// seconds, so new surveys appear without a reload. Plain browser JavaScript, no build step; the
// charts are in charts.js. The page's state (period, filters, dimension filters, grouping,
// sort, ticket search) lives in the URL, so a reload, a shared link and Back show the same view.
// Nothing is written to the console: the list holds comments and ids.
"use strict";
(() => {
  const initial = new URLSearchParams(location.search);
  const refreshMs = Math.max(1, Number(initial.get("refresh")) || 5) * 1000;
  const tz = Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
  const $ = (id) => document.getElementById(id);
  const form = $("filters");
  const updated = $("updated");
  const body = document.querySelector("#dialogues tbody");
  const groupBody = document.querySelector("#groups tbody");
  const GROUPS = { agent: ["Agent", "agents"], team: ["Team", "teams"], tags: ["Tag", "tags"] };
  const SORTS = ["value", "surveys", "csat", "average", "cdsat", "responseRate"];
  const RATINGS = ["1-2", "3", "4-5"];
  const DIALOGUE_COLUMNS = ["Started", "Scenario", "Channel", "Agent", "Team", "Tags", "Ticket", "CSAT", "Client comment"];
  const DIM = /^dim\.([A-Za-z_][A-Za-z0-9_]{0,63})$/;
  const DAY_MS = 86400000;

  const day = (d) => d.toLocaleDateString("en-CA", { timeZone: tz }); // YYYY-MM-DD
  const pct = (x) => (x === null || x === undefined ? "–" : (x * 100).toFixed(1) + " %");
  /** NPS-style as botflow stats prints it: points from −100 to +100, signed, one decimal ("+60.0", "-100.0"). */
  const npsPoints = (x) => (x === null || x === undefined ? "–" : (x > 0 ? "+" : "") + (x * 100).toFixed(1));
  const label = (name) => (GROUPS[name] ? GROUPS[name][0] : name);
  let state = readState(location.search);
  let nextCursor = null;
  let lastKey = "";
  let lastGroups = null;
  let generation = 0;
  let refused = false; // the API answered 400: polling again would get the same answer
  let timer = null;

  /** Tells screen readers what a click changed (the clock beside it is not announced every poll). */
  function announce(text) {
    $("announce").textContent = text;
  }

  function el(tag, attrs, text) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, String(v));
    if (text !== undefined) e.textContent = text;
    return e;
  }

  // ---- state <-> URL ------------------------------------------------------------------------

  function defaults() {
    return preset("30d");
  }

  /** The period of a preset, ending today (the browser's zone): the last 7 or 30 days, or this month so far. */
  function preset(name) {
    const now = new Date();
    const to = day(now);
    if (name === "month") return { from: to.slice(0, 8) + "01", to };
    return { from: day(new Date(now.getTime() - (name === "7d" ? 6 : 29) * DAY_MS)), to };
  }

  function markPreset() {
    for (const b of form.querySelectorAll("[data-preset]")) {
      const p = preset(b.dataset.preset);
      b.setAttribute("aria-pressed", String(p.from === state.from && p.to === state.to));
    }
  }

  function readState(search) {
    const p = new URLSearchParams(search);
    const d = defaults();
    const dims = {};
    for (const [k, v] of p) {
      const m = DIM.exec(k);
      if (m && v !== "") dims[m[1]] = v;
    }
    const group = p.get("group") || "";
    const sort = p.get("sort") || "";
    return {
      from: p.get("from") || d.from,
      to: p.get("to") || d.to,
      scenario: p.get("scenario") || "",
      channel: p.get("channel") || "",
      bot: p.get("bot") || "",
      group: GROUPS[group] ? group : "",
      sort: SORTS.includes(sort) ? sort : "surveys",
      dir: p.get("dir") === "asc" ? "asc" : "desc",
      dims,
      ticket: p.get("ticket") || "",
      surveysOnly: p.get("surveys") !== "all",
      rating: RATINGS.includes(p.get("rating")) ? p.get("rating") : "",
    };
  }

  function writeUrl(push) {
    const p = new URLSearchParams();
    if (initial.get("refresh")) p.set("refresh", initial.get("refresh"));
    const d = defaults();
    // The default period is left out, so a bookmark keeps meaning "the last 30 days".
    if (state.from !== d.from || state.to !== d.to) { p.set("from", state.from); p.set("to", state.to); }
    for (const k of ["scenario", "channel", "bot"]) if (state[k]) p.set(k, state[k]);
    if (state.group) p.set("group", state.group);
    if (state.sort !== "surveys" || state.dir !== "desc") { p.set("sort", state.sort); p.set("dir", state.dir); }
    for (const [k, v] of Object.entries(state.dims)) p.set("dim." + k, v);
    if (state.ticket) p.set("ticket", state.ticket);
    if (!state.surveysOnly) p.set("surveys", "all");
    if (state.rating) p.set("rating", state.rating);
    const url = location.pathname + (String(p) ? "?" + p : "");
    if (url !== location.pathname + location.search) history[push ? "pushState" : "replaceState"](null, "", url);
  }

  function fillForm() {
    for (const k of ["from", "to", "scenario", "channel", "bot"]) form.elements[k].value = state[k];
    $("group-by").value = state.group;
    $("ticket").value = state.ticket;
    $("surveys-only").checked = state.surveysOnly;
    $("rating").value = state.rating;
    markPreset();
  }

  /** The API query of the page's state: period, zone, filters and dimension filters. */
  function apiQuery(extra) {
    const q = new URLSearchParams();
    q.set("from", state.from);
    q.set("to", state.to);
    q.set("tz", tz);
    for (const k of ["scenario", "channel", "bot"]) if (state[k]) q.set(k, state[k]);
    for (const [k, v] of Object.entries(state.dims)) q.set("dim." + k, v);
    for (const [k, v] of Object.entries(extra || {})) if (v !== "" && v !== undefined) q.set(k, v);
    return q;
  }

  /**
   * The grouped figures' query: every filter but the one on the grouped dimension itself, so
   * the table stays the way to move from one agent (team, tag) to the next, the chosen one marked.
   */
  function groupQuery() {
    const q = apiQuery({ group_by: state.group, limit: "200" });
    q.delete("dim." + state.group);
    return q;
  }

  // ---- the API --------------------------------------------------------------------------------

  class ApiError extends Error {
    constructor(status, data) {
      super((data && data.message) || "status " + status);
      this.status = status;
      this.parameter = data && data.parameter;
    }
  }

  async function getJson(path) {
    let res;
    try {
      res = await fetch(path, { headers: { accept: "application/json" }, credentials: "same-origin" });
    } catch {
      throw new ApiError(0, { message: "botflow did not answer: is it running, and is this machine online?" });
    }
    if (res.status === 401) { location.href = "/dashboard/login"; throw new ApiError(401, { message: "login needed" }); }
    let data = null;
    try { data = await res.json(); } catch { /* not JSON: a proxy's error page */ }
    if (!res.ok || data === null) throw new ApiError(res.status, data);
    return data;
  }

  function showProblem(err) {
    const box = $("problem");
    const status = err instanceof ApiError ? err.status : -1;
    const bad = status === 400;
    refused = bad;
    announce("");
    $("problem-title").textContent = bad ? "These figures cannot be shown." : status === 503 ? "The statistics store is not answering." : status === 0 ? "botflow is not reachable." : "The statistics API gave an unexpected answer.";
    $("problem-text").textContent = bad
      ? "The API refused the view" + (err.parameter ? " (" + err.parameter + ")" : "") + ": " + err.message
      : (lastKey ? "The figures below are from " + updated.dataset.at + "; " : "") + "the dashboard tries again every " + refreshMs / 1000 + " s." + (status === 503 ? " See the server log and /readyz." : "");
    $("problem-reset").hidden = !bad;
    box.hidden = false;
    box.dataset.status = String(status);
    document.body.dataset.state = "error";
    updated.textContent = "Not updated";
    if (bad) {
      // Nothing on the page matches the view any more.
      lastKey = "";
      for (const dd of document.querySelectorAll("#cards dd")) dd.textContent = dd.dataset.figure ? "–" : "";
      $("groups-wrap").hidden = true;
      body.replaceChildren();
      $("more").hidden = true;
    }
  }

  function clearProblem() {
    $("problem").hidden = true;
    refused = false;
    delete document.body.dataset.state;
  }

  // ---- cards ----------------------------------------------------------------------------------

  const signed = (x, digits) => (x > 0 ? "+" : x < 0 ? "−" : "±") + Math.abs(x).toFixed(digits);
  /** How each card shows its value and its change; `better` is the sign of a good change. */
  const CARDS = {
    csat: { show: pct, change: (d) => signed(d * 100, 1), unit: " pp", better: 1 },
    average: { show: (v) => v.toFixed(2), change: (d) => signed(d, 2), unit: "", better: 1 },
    cdsat: { show: pct, change: (d) => signed(d * 100, 1), unit: " pp", better: -1 },
    surveys: { show: String, change: (d) => signed(d, 0), unit: "", better: 1 },
    surveyPercentage: { show: pct, change: (d) => signed(d * 100, 1), unit: " pp", better: 1 },
    responseRate: { show: pct, change: (d) => signed(d * 100, 1), unit: " pp", better: 1 },
    nps: { show: npsPoints, change: (d) => signed(d * 100, 1), unit: " pts", better: 1 },
  };

  function shortDay(iso) {
    return new Date(iso).toLocaleDateString("en-GB", { day: "numeric", month: "short", year: "numeric", timeZone: tz });
  }

  function renderCards(f) {
    const prev = f.previous;
    for (const [k, c] of Object.entries(CARDS)) {
      const v = f[k];
      document.querySelector('[data-figure="' + k + '"]').textContent = v === null || v === undefined ? "–" : c.show(v);
      const delta = document.querySelector('[data-delta="' + k + '"]');
      const change = prev ? prev.change[k] : null;
      delta.replaceChildren();
      delta.className = "delta";
      delete delta.dataset.trend;
      if (!prev) continue;
      if (change === null || change === undefined) {
        if (v !== null && v !== undefined) delta.append(el("span", { class: "muted" }, "no earlier figure"));
        continue;
      }
      const text = c.change(change);
      const flat = /^±0(\.0+)?$/.test(text);
      const trend = flat ? "same" : Math.sign(change) === c.better ? "better" : "worse";
      delta.classList.add(trend);
      delta.dataset.trend = trend;
      delta.dataset.direction = flat ? "flat" : change > 0 ? "up" : "down";
      delta.append(el("span", { "aria-hidden": "true" }, (flat ? "■ " : change > 0 ? "▲ " : "▼ ") + (flat ? "no change" : text + c.unit)));
      const was = prev[k] === null ? "–" : c.show(prev[k]);
      delta.append(el("span", { class: "visually-hidden" }, flat ? "No change from the previous period (" + was + ")." : (change > 0 ? "Up " : "Down ") + text.slice(1) + c.unit + " from " + was + " in the previous period: " + trend + "."));
      delta.title = "Previous period: " + was;
    }
    for (const [k, digits] of [["csat", 1], ["average", 2], ["cdsat", 1]]) {
      const i = f[k + "Interval"];
      const box = document.querySelector('[data-interval="' + k + '"]');
      box.textContent = !i ? "" : "95 % CI " + (k !== "average" ? (i.low * 100).toFixed(digits) + "–" + (i.high * 100).toFixed(digits) + " %" : i.low.toFixed(digits) + "–" + i.high.toFixed(digits));
    }
    const days = prev ? Math.round((Date.parse(prev.to) - Date.parse(prev.from)) / DAY_MS) : 0;
    $("compare-note").textContent = prev ? "▲▼ compare with the previous " + days + " day" + (days === 1 ? "" : "s") + " (" + shortDay(prev.from) + " – " + shortDay(Date.parse(prev.to) - 1) + "); green is better, so a higher CSAT score and a lower CDSAT are green." : "";
    $("notes").textContent = f.dialogues === 0 ? "No dialogues in this period or filter." : f.notes.join(" · ");
  }

  // ---- grouped figures ------------------------------------------------------------------------

  function withInterval(v, i, fmt) {
    if (v === null || v === undefined) return "–";
    return fmt(v) + " (" + (i ? fmt(i.low) + "–" + fmt(i.high) : "n too small") + ")";
  }

  function compareGroups(a, b) {
    const key = state.sort;
    const dir = state.dir === "asc" ? 1 : -1;
    if (key === "value") return dir * a.value.localeCompare(b.value);
    const x = a[key], y = b[key];
    // Groups without the figure go last whichever way the column is sorted; ties keep the
    // API's order (the sort is stable): largest first.
    if (x === null || y === null) return (x === null ? 1 : 0) - (y === null ? 1 : 0);
    return dir * (x - y);
  }

  function renderGroups(grouped) {
    const on = Boolean(state.group);
    $("groups-name").textContent = on ? GROUPS[state.group][1] : "agent, team or tag";
    $("group-col").textContent = on ? GROUPS[state.group][0] : "Value";
    $("groups-hint").hidden = on;
    lastGroups = on ? grouped : null;
    const groups = lastGroups ? lastGroups.groups : [];
    $("groups-wrap").hidden = groups.length === 0;
    $("groups-empty").hidden = !on || groups.length > 0;
    const notes = [];
    if (lastGroups && lastGroups.truncated > 0) notes.push(lastGroups.truncated + " smaller " + GROUPS[state.group][1] + " are not shown.");
    if (state.group === "tags" && groups.length > 0) notes.push("A survey with several tags counts under each of them.");
    if (groups.length > 0) notes.push(state.dims[state.group] ? "The page shows " + state.dims[state.group] + " only (marked); select another row to switch, or remove the filter above." : "Select a row to show only that " + GROUPS[state.group][0].toLowerCase() + "'s figures.");
    $("groups-note").textContent = notes.join(" ");
    $("groups-note").hidden = notes.length === 0;
    drawGroupRows();
  }

  function drawGroupRows() {
    for (const th of document.querySelectorAll("#groups th[data-sort]")) {
      th.setAttribute("aria-sort", th.dataset.sort === state.sort ? (state.dir === "asc" ? "ascending" : "descending") : "none");
      th.querySelector(".arrow").textContent = th.dataset.sort === state.sort ? (state.dir === "asc" ? "▲" : "▼") : "";
    }
    $("groups-caption").textContent = state.group ? "Figures by " + GROUPS[state.group][0].toLowerCase() + ", sorted by " + state.sort + ", " + (state.dir === "asc" ? "ascending" : "descending") : "";
    const focused = document.activeElement && document.activeElement.closest && document.activeElement.closest("#groups tbody tr");
    const focusValue = focused ? focused.dataset.value : null;
    groupBody.replaceChildren();
    if (!lastGroups) return;
    const active = state.dims[state.group];
    for (const g of [...lastGroups.groups].sort(compareGroups)) {
      const tr = el("tr", { "data-value": g.value, class: "group-row" + (g.value === active ? " active" : "") + (g.rated < 10 ? " few" : "") });
      const name = el("td", { "data-col": "value" });
      const button = el("button", { type: "button", class: "row-filter", "aria-pressed": g.value === active ? "true" : "false" });
      button.append(el("span", {}, g.value), el("span", { class: "visually-hidden" }, ": show only this " + GROUPS[state.group][0].toLowerCase()));
      name.append(button);
      tr.append(name);
      tr.append(el("td", { class: "num", "data-col": "surveys" }, String(g.surveys)));
      tr.append(el("td", { class: "num", "data-col": "rated" }, String(g.rated)));
      tr.append(el("td", { class: "num", "data-col": "csat" }, withInterval(g.csat, g.csatInterval, (x) => (x * 100).toFixed(1)) + (g.csat === null ? "" : " %")));
      tr.append(el("td", { class: "num", "data-col": "average" }, withInterval(g.average, g.averageInterval, (x) => x.toFixed(2))));
      tr.append(el("td", { class: "num", "data-col": "cdsat" }, withInterval(g.cdsat, g.cdsatInterval, (x) => (x * 100).toFixed(1)) + (g.cdsat === null ? "" : " %")));
      tr.append(el("td", { class: "num", "data-col": "responseRate" }, pct(g.responseRate)));
      if (g.rated < 10) tr.title = "Only " + g.rated + " rating" + (g.rated === 1 ? "" : "s") + ": read the interval, not the figure";
      groupBody.append(tr);
      if (g.value === focusValue) button.focus();
    }
  }

  function sortBy(key) {
    if (state.sort === key) state.dir = state.dir === "asc" ? "desc" : "asc";
    else { state.sort = key; state.dir = key === "value" ? "asc" : "desc"; }
    writeUrl(false);
    drawGroupRows();
    announce("Sorted by " + document.querySelector('#groups th[data-sort="' + key + '"] .label').textContent.toLowerCase() + ", " + (state.dir === "asc" ? "ascending" : "descending"));
  }

  // ---- filter chips ---------------------------------------------------------------------------

  function renderChips() {
    const list = $("chips");
    list.replaceChildren();
    const entries = Object.entries(state.dims);
    $("chips-bar").hidden = entries.length === 0;
    for (const [k, v] of entries) {
      const li = el("li", { class: "chip", "data-dim": k });
      li.append(el("span", {}, label(k) + ": " + v));
      const x = el("button", { type: "button", "aria-label": "Remove the filter " + label(k).toLowerCase() + " " + v, title: "Remove this filter" }, "×");
      x.addEventListener("click", () => removeDim(k));
      li.append(x);
      list.append(li);
    }
  }

  function setDim(name, value) {
    state.dims = { ...state.dims, [name]: value };
    writeUrl(true);
    renderChips();
    refresh(true).then(() => $("problem").hidden && announce("Showing only " + label(name).toLowerCase() + " " + value + ": " + $("cards").querySelector('[data-figure="surveys"]').textContent + " surveys"));
  }

  function removeDim(name) {
    const keys = Object.keys(state.dims);
    const at = keys.indexOf(name);
    const dims = { ...state.dims };
    delete dims[name];
    state.dims = dims;
    writeUrl(true);
    renderChips();
    // Keep the keyboard where it was: the next chip, or the grouping.
    const next = $("chips").querySelectorAll("button")[Math.min(at, keys.length - 2)];
    (next || $("group-by")).focus();
    refresh(true).then(() => $("problem").hidden && announce("Filter " + label(name).toLowerCase() + " removed"));
  }

  // ---- dialogue list --------------------------------------------------------------------------

  /** A list cell; `col` is its column's name, shown beside the value when the rows are stacked on a phone. */
  function cell(text, cls, col) {
    const attrs = cls ? { class: cls } : {};
    if (col !== undefined) attrs["data-label"] = DIALOGUE_COLUMNS[col];
    return el("td", attrs, text === null || text === undefined ? "" : String(text));
  }

  function appendRows(rows) {
    for (const r of rows) {
      const d = r.dimensions || {};
      const tags = Array.isArray(d.tags) ? d.tags : d.tags ? [d.tags] : [];
      const tr = el("tr");
      tr.append(cell(new Date(r.dialogueStartedAt).toLocaleString(), "started", 0));
      tr.append(cell(r.scenarioId, "scenario", 1));
      tr.append(cell(r.channel + (r.botId ? " / " + r.botId : ""), "channel", 2));
      tr.append(cell(d.agent, "dim-agent", 3));
      tr.append(cell(d.team, "dim-team", 4));
      const tagCell = el("td", { class: "dim-tags", "data-label": DIALOGUE_COLUMNS[5] });
      if (tags.length > 0) {
        const list = el("span", { class: "tags" });
        for (const t of tags) list.append(el("span", { class: "tag" }, String(t)));
        tagCell.append(list);
      }
      tr.append(tagCell);
      tr.append(cell(d.ticket, "dim-ticket", 6));
      tr.append(cell(r.score === null ? (r.denied ? "declined" : "–") : String(r.score), "csat", 7));
      tr.append(cell(r.comment || "", "comment", 8));
      body.append(tr);
    }
  }

  async function loadDialogues(reset, g) {
    const q = apiQuery({ limit: "25", surveysOnly: state.surveysOnly ? "1" : "", rating: state.rating, "dim.ticket": state.ticket });
    if (!reset && nextCursor) q.set("cursor", nextCursor);
    const page = await getJson("/api/stats/dialogues?" + q);
    if (g !== undefined && g !== generation) return;
    if (reset) body.replaceChildren();
    appendRows(page.rows);
    nextCursor = page.nextCursor;
    $("more").hidden = !nextCursor;
    const empty = $("empty");
    empty.hidden = body.children.length > 0;
    empty.textContent = state.ticket
      ? "No dialogue with ticket “" + state.ticket + "” in this period and filter."
      : state.rating ? "No dialogue rated " + state.rating.replace("-", "–") + " in this period and filter." : "No dialogues in this period.";
  }

  // ---- refresh --------------------------------------------------------------------------------

  async function refresh(force) {
    const g = ++generation;
    $("export").href = "/api/stats/export.csv?" + apiQuery({ surveysOnly: state.surveysOnly ? "1" : "", rating: state.rating, "dim.ticket": state.ticket });
    markPreset();
    try {
      const [figures, grouped] = await Promise.all([
        getJson("/api/stats/figures?" + apiQuery({ compare: "previous" })),
        state.group ? getJson("/api/stats/figures?" + groupQuery()) : null,
      ]);
      if (g !== generation) return; // a newer view was asked for meanwhile
      const key = JSON.stringify([figures, grouped, state.group]);
      if (force || key !== lastKey) {
        await loadDialogues(true, g);
        if (g !== generation) return;
        lastKey = key;
        renderCards(figures);
        renderGroups(grouped);
        if (window.botflowCharts) {
          window.botflowCharts.distribution($("distribution"), figures);
          window.botflowCharts.trend($("trend"), figures);
          window.botflowCharts.volume($("volume"), figures);
        }
      }
      clearProblem();
      updated.dataset.at = new Date().toLocaleTimeString();
      updated.textContent = "Updated " + updated.dataset.at;
      document.body.dataset.loaded = "true";
    } catch (err) {
      if (g === generation) showProblem(err);
    }
  }

  function schedule() {
    clearTimeout(timer);
    timer = setTimeout(async () => {
      if (!document.hidden && !refused) await refresh(false);
      schedule();
    }, refreshMs);
  }

  async function init() {
    try {
      const options = await getJson("/api/stats/options");
      for (const s of options.scenarios) form.elements.scenario.append(el("option", { value: s.id }, s.name ? s.name + " (" + s.id + ")" : s.id));
      for (const c of options.channels) form.elements.channel.append(el("option", { value: c }, c));
      // Dimensions the loaded scenarios declare beyond agent, team and tags become Group by choices too.
      for (const name of options.dimensions || []) {
        if (GROUPS[name]) continue;
        GROUPS[name] = [name.charAt(0).toUpperCase() + name.slice(1).replace(/_/g, " "), name];
        $("group-by").append(el("option", { value: name }, GROUPS[name][0]));
      }
      const asked = new URLSearchParams(location.search).get("group");
      if (!state.group && asked && GROUPS[asked]) state.group = asked;
    } catch { /* filters stay "All" */ }
    fillForm();
    renderChips();
    form.addEventListener("submit", (ev) => {
      ev.preventDefault();
      for (const k of ["from", "to", "scenario", "channel", "bot"]) state[k] = String(form.elements[k].value).trim();
      const d = defaults();
      state.from = state.from || d.from;
      state.to = state.to || d.to;
      writeUrl(true);
      refresh(true);
      schedule();
    });
    $("group-by").addEventListener("change", (ev) => {
      state.group = ev.target.value;
      writeUrl(true);
      refresh(true);
    });
    for (const th of document.querySelectorAll("#groups th[data-sort]")) th.querySelector("button").addEventListener("click", () => sortBy(th.dataset.sort));
    // The whole row filters; its first cell's button is the keyboard's way in (Enter or Space).
    groupBody.addEventListener("click", (ev) => {
      const tr = ev.target.closest("tr[data-value]");
      if (tr && state.group) setDim(state.group, tr.dataset.value);
    });
    $("ticket-search").addEventListener("submit", (ev) => {
      ev.preventDefault();
      state.ticket = $("ticket").value.trim();
      writeUrl(true);
      loadDialogues(true).then(() => announce(state.ticket ? body.children.length + " dialogue" + (body.children.length === 1 ? "" : "s") + " with ticket " + state.ticket : "Ticket search cleared"), showProblem);
    });
    $("ticket").addEventListener("search", () => {
      // The field's own clear button (×) ends the search.
      if ($("ticket").value === "" && state.ticket) { state.ticket = ""; writeUrl(true); loadDialogues(true).catch(showProblem); }
    });
    $("surveys-only").addEventListener("change", (ev) => {
      state.surveysOnly = ev.target.checked;
      writeUrl(true);
      refresh(true);
    });
    // The rating narrows the list and its export; the figures stay the period's.
    $("rating").addEventListener("change", (ev) => {
      state.rating = ev.target.value;
      writeUrl(true);
      refresh(true).then(() => $("problem").hidden && announce(state.rating ? body.children.length + " dialogue" + (body.children.length === 1 ? "" : "s") + " rated " + state.rating.replace("-", " to ") + " shown" : "Dialogues of every rating shown"));
    });
    for (const b of form.querySelectorAll("[data-preset]")) {
      b.addEventListener("click", () => {
        Object.assign(state, preset(b.dataset.preset));
        form.elements.from.value = state.from;
        form.elements.to.value = state.to;
        writeUrl(true);
        refresh(true);
        schedule();
      });
    }
    $("more").addEventListener("click", () => loadDialogues(false).catch(showProblem));
    window.addEventListener("popstate", () => {
      state = readState(location.search);
      fillForm();
      renderChips();
      refresh(true);
    });
    await refresh(true);
    schedule();
  }

  init();
})();
