/**
 * The dashboard in real headless Chromium against the composed web process, its store holding
 * generated surveys with agent, team, tags and ticket: the cards' change against the previous
 * period, the table grouped by agent (the API's own numbers, intervals included), sorting by
 * mouse and keyboard, a row filtering the whole page (a chip, the URL, reload and Back), the
 * ticket search, the Chart.js charts (served by the app, no other host contacted), the empty and
 * error states, and a console that never shows a comment or an id.
 */
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Figures, GroupedFigures } from "../../stats/figures.ts";
import type { DialoguePage } from "../../stats/store/survey-store.ts";
import { PERIOD, startDashboardApp, type DashboardApp } from "./dashboard-fixture.ts";
import { ARTIFACTS, launchBrowser } from "./browser.ts";
import { formatNps } from "../../cli/format-figures.ts";

const DOCS = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../docs");
const VIEW = `from=${PERIOD.from}&to=${PERIOD.to}&scenario=csat`;
const API_VIEW = `${VIEW}&tz=UTC`;

let d: DashboardApp;
let browser: Browser;
let context: BrowserContext;
/** Every console message, page error and request of every page, checked at the end. */
const consoleLines: string[] = [];
const pageErrors: string[] = [];
const requests: string[] = [];

beforeAll(async () => {
  d = await startDashboardApp();
  browser = await launchBrowser();
  context = await browser.newContext({ viewport: { width: 1280, height: 1000 }, locale: "en-US", timezoneId: "UTC" });
  context.setDefaultTimeout(10_000);
}, 120_000);
afterAll(async () => {
  await context?.close();
  await browser?.close();
  await d?.dispose();
});

async function open(query: string, o: { loaded?: boolean; in?: BrowserContext } = {}): Promise<Page> {
  const page = await (o.in ?? context).newPage();
  page.on("console", (m) => consoleLines.push(`${m.type()}: ${m.text()}`));
  page.on("pageerror", (e) => pageErrors.push(e.message));
  page.on("request", (r) => requests.push(r.url()));
  // A long refresh: the tests drive every redraw themselves.
  await page.goto(`${d.url}/dashboard?refresh=600&${query}`);
  if (o.loaded !== false) await page.locator("body[data-loaded]").waitFor();
  return page;
}

/**
 * The page down to its fifth dialogue, in test-artifacts/ and, with BOTFLOW_UPDATE_DOCS=1, as
 * the README's picture in docs/ (so a plain test run leaves the work tree alone).
 */
async function screenshot(page: Page, name: string): Promise<void> {
  const row = (await page.locator("#dialogues tbody tr").nth(4).boundingBox())!;
  const width = page.viewportSize()!.width;
  const clip = { x: 0, y: 0, width, height: Math.ceil(row.y + row.height + 12) };
  await page.screenshot({ path: path.join(ARTIFACTS, name), fullPage: true, clip });
  if (process.env.BOTFLOW_UPDATE_DOCS === "1") await page.screenshot({ path: path.join(DOCS, name), fullPage: true, clip });
}

const figure = (page: Page, name: string) => page.locator(`[data-figure="${name}"]`).textContent();
const fixed = (x: number, digits: number) => x.toFixed(digits);
const groupRows = (page: Page) => page.locator("#groups tbody tr");
const columnNumbers = async (page: Page, col: string) => (await page.locator(`#groups tbody td[data-col="${col}"]`).allTextContents()).map((t) => (t.startsWith("–") ? null : Number.parseFloat(t)));

/** Waits until the cards show the figures of `apiQuery` (the page redraws asynchronously). */
async function cardsShow(page: Page, f: Figures): Promise<void> {
  await expect.poll(() => figure(page, "surveys")).toBe(String(f.surveys));
  expect(await figure(page, "average")).toBe(f.average === null ? "–" : fixed(f.average, 2));
  expect(await figure(page, "cdsat")).toBe(f.cdsat === null ? "–" : `${fixed(f.cdsat * 100, 1)} %`);
  expect(await figure(page, "csat")).toBe(f.csat === null ? "–" : `${fixed(f.csat * 100, 1)} %`);
  // NPS-style exactly as botflow stats prints it.
  expect(await figure(page, "nps")).toBe(formatNps(f.nps));
}

interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** The filter row's controls (presets, fields, actions) grouped into the lines they sit on. */
async function filterLines(page: Page): Promise<{ row: Box; lines: Box[][] }> {
  const row = (await page.locator("#filters").boundingBox())!;
  const boxes = (await page.locator("#filters > *").evaluateAll((els) => els.map((e) => { const r = e.getBoundingClientRect(); return { x: r.x, y: r.y + e.ownerDocument.defaultView!.scrollY, width: r.width, height: r.height }; }))) as Box[];
  const lines: Box[][] = [];
  for (const b of boxes.sort((a, c) => a.y - c.y || a.x - c.x)) {
    const line = lines.find((l) => Math.abs(l[0]!.y + l[0]!.height - (b.y + b.height)) < 4);
    if (line) line.push(b);
    else lines.push([b]);
  }
  for (const l of lines) l.sort((a, c) => a.x - c.x);
  return { row: { ...row, y: row.y }, lines };
}

describe("the dashboard in Chromium, on surveys with agent, team, tags and ticket", () => {
  it("shows each card's change against the previous period of the same length", async () => {
    const page = await open(VIEW);
    const f = await d.api<Figures>(`/api/stats/figures?${API_VIEW}&compare=previous`);
    await cardsShow(page, f);
    const prev = f.previous!;
    expect(prev.surveys).toBeGreaterThan(0);
    for (const [name, better] of [["average", 1], ["cdsat", -1], ["surveys", 1], ["responseRate", 1], ["nps", 1]] as const) {
      const change = prev.change[name];
      expect(change, name).not.toBeNull();
      const delta = page.locator(`[data-delta="${name}"]`);
      const text = (await delta.textContent()) ?? "";
      const flat = /no change/.test(text);
      if (flat) continue;
      expect(text, name).toContain(change! > 0 ? "▲" : "▼");
      expect(await delta.getAttribute("data-trend"), name).toBe(Math.sign(change!) === better ? "better" : "worse");
      expect(text, name).toMatch(/(Up|Down) .* previous period: (better|worse)\./);
    }
    expect(await page.locator('[data-delta="surveys"]').textContent()).toContain(`${prev.change.surveys > 0 ? "+" : "−"}${Math.abs(prev.change.surveys)}`);
    expect(await page.locator("#compare-note").textContent()).toMatch(/previous 16 days \(28 Feb 2026 – 15 Mar 2026\)/);
    expect(await page.locator('[data-interval="average"]').textContent()).toBe(`95 % CI ${fixed(f.averageInterval!.low, 2)}–${fixed(f.averageInterval!.high, 2)}`);
    await page.close();
  });

  it("draws the distribution and the trend with Chart.js, with tooltips and a text alternative", async () => {
    const page = await open(VIEW);
    const f = await d.api<Figures>(`/api/stats/figures?${API_VIEW}`);
    expect(await page.evaluate("typeof window.Chart")).toBe("function");
    const bars = await page.evaluate(`Chart.getChart("distribution-canvas").data.datasets[0].data`);
    expect(bars).toEqual([1, 2, 3, 4, 5].map((v) => f.distribution[String(v)] ?? 0));
    expect(await page.locator('#distribution tr[data-value="4"]').getAttribute("data-count")).toBe(String(f.distribution["4"]));
    expect(await page.getByRole("img", { name: /^Ratings distribution — 1: \d+, 2: \d+/ }).count()).toBe(1);
    const line = (await page.evaluate(`Chart.getChart("trend-canvas").data.datasets[0].data`)) as (number | null)[];
    expect(line).toEqual(f.trend.points.map((p) => p.average));
    // The trend's axis is the rating scale, 1 to 5.
    expect(await page.evaluate(`[Chart.getChart("trend-canvas").scales.y.min, Chart.getChart("trend-canvas").scales.y.max]`)).toEqual([1, 5]);
    // Hovering a bar opens its tooltip.
    const box = (await page.locator("#distribution-canvas").boundingBox())!;
    const bar = (await page.evaluate(`(() => { const b = Chart.getChart("distribution-canvas").getDatasetMeta(0).data[4]; return { x: b.x, y: (b.y + b.base) / 2 }; })()`)) as { x: number; y: number };
    await page.mouse.move(box.x + bar.x, box.y + bar.y);
    await expect.poll(() => page.evaluate(`Chart.getChart("distribution-canvas").tooltip.getActiveElements().map((e) => e.index)`)).toEqual([4]);
    expect(await page.evaluate(`Chart.getChart("distribution-canvas").tooltip.title`)).toEqual(["Rating 5"]);
    // Everything came from this app: the library is bundled, not fetched from a CDN.
    const lib = await fetch(`${d.url}/dashboard/vendor/chart.umd.min.js`);
    expect(lib.status).toBe(200);
    expect(lib.headers.get("content-type")).toMatch(/javascript/);
    expect(await lib.text()).toMatch(/Chart\.js v4/);
    await page.close();
  });

  it("groups by agent with the API's numbers and intervals, sortable by mouse and keyboard", async () => {
    const page = await open(VIEW);
    await page.getByLabel("Group by").selectOption("agent");
    const g = await d.api<GroupedFigures>(`/api/stats/figures?${API_VIEW}&group_by=agent&limit=200`);
    expect(g.groups.length).toBeGreaterThan(5);
    await expect.poll(() => groupRows(page).count()).toBe(g.groups.length);
    expect(new URL(page.url()).searchParams.get("group")).toBe("agent");
    // Largest first, as the API orders them; every number as the API has it.
    expect(await page.locator('#groups tbody td[data-col="value"]').allTextContents()).toEqual(g.groups.map((x) => `${x.value}: show only this agent`));
    for (const x of g.groups) {
      const row = page.locator(`#groups tbody tr[data-value="${x.value}"]`);
      expect(await row.locator('td[data-col="surveys"]').textContent()).toBe(String(x.surveys));
      expect(await row.locator('td[data-col="rated"]').textContent()).toBe(String(x.rated));
      const avg = x.averageInterval ? `${fixed(x.average!, 2)} (${fixed(x.averageInterval.low, 2)}–${fixed(x.averageInterval.high, 2)})` : `${fixed(x.average!, 2)} (n too small)`;
      expect(await row.locator('td[data-col="average"]').textContent(), x.value).toBe(avg);
      const cd = x.cdsatInterval!;
      expect(await row.locator('td[data-col="cdsat"]').textContent(), x.value).toBe(`${fixed(x.cdsat! * 100, 1)} (${fixed(cd.low * 100, 1)}–${fixed(cd.high * 100, 1)}) %`);
      expect(await row.locator('td[data-col="responseRate"]').textContent(), x.value).toBe(`${fixed(x.responseRate! * 100, 1)} %`);
    }

    const header = (name: string) => page.locator(`#groups th[data-sort="${name}"]`);
    await header("average").getByRole("button").click();
    expect(await header("average").getAttribute("aria-sort")).toBe("descending");
    expect(await header("surveys").getAttribute("aria-sort")).toBe("none");
    const desc = (await columnNumbers(page, "average")) as number[];
    expect(desc).toEqual([...desc].sort((a, b) => b - a));
    expect(desc[0]).toBe(Number(fixed(Math.max(...g.groups.map((x) => x.average!)), 2)));
    await header("average").getByRole("button").click();
    expect(await header("average").getAttribute("aria-sort")).toBe("ascending");
    const asc = (await columnNumbers(page, "average")) as number[];
    expect(asc).toEqual([...asc].sort((a, b) => a - b));
    expect(new URL(page.url()).searchParams.get("sort")).toBe("average");

    // The keyboard: Tab to the CDSAT header's button, Enter sorts, Space flips.
    await header("average").getByRole("button").focus();
    await page.keyboard.press("Tab");
    expect(await page.evaluate("document.activeElement.closest('th').dataset.sort")).toBe("cdsat");
    await page.keyboard.press("Enter");
    expect(await header("cdsat").getAttribute("aria-sort")).toBe("descending");
    const cdsat = (await columnNumbers(page, "cdsat")) as number[];
    expect(cdsat).toEqual([...cdsat].sort((a, b) => b - a));
    await page.keyboard.press("Space");
    expect(await header("cdsat").getAttribute("aria-sort")).toBe("ascending");
    await header("responseRate").getByRole("button").click();
    const rr = (await columnNumbers(page, "responseRate")) as number[];
    expect(rr).toEqual([...rr].sort((a, b) => b - a));
    await header("surveys").getByRole("button").click();
    const surveys = (await columnNumbers(page, "surveys")) as number[];
    expect(surveys).toEqual([...surveys].sort((a, b) => b - a));
    // The sort survives a reload.
    await page.reload();
    await page.locator("body[data-loaded]").waitFor();
    await expect.poll(() => groupRows(page).count()).toBe(g.groups.length);
    expect(await header("surveys").getAttribute("aria-sort")).toBe("descending");
    await header("average").getByRole("button").click();
    await screenshot(page, "dashboard-by-agent.png");
    await page.close();
  });

  it("filters the whole page by the agent a row names: cards, table and dialogue list; a chip, the URL, reload and Back", async () => {
    const page = await open(`${VIEW}&group=agent`);
    const all = await d.api<Figures>(`/api/stats/figures?${API_VIEW}&compare=previous`);
    const g = await d.api<GroupedFigures>(`/api/stats/figures?${API_VIEW}&group_by=agent&limit=200`);
    const agent = g.groups[1]!.value;
    const one = await d.api<Figures>(`/api/stats/figures?${API_VIEW}&compare=previous&dim.agent=${agent}`);
    expect(one.surveys).toBeLessThan(all.surveys);
    await cardsShow(page, all);

    await page.locator(`#groups tbody tr[data-value="${agent}"] td[data-col="surveys"]`).click();
    await cardsShow(page, one);
    expect(new URL(page.url()).searchParams.get("dim.agent")).toBe(agent);
    const chip = page.getByRole("list", { name: "Filtered by" }).getByRole("listitem");
    expect(await chip.allTextContents()).toEqual([`Agent: ${agent}×`]);
    await expect.poll(() => page.getByRole("status").textContent()).toBe(`Showing only agent ${agent}: ${one.surveys} surveys`);
    // The table stays the way to the next agent, this one marked; the list holds theirs only.
    await expect.poll(() => page.locator("#groups tbody tr.active").getAttribute("data-value")).toBe(agent);
    expect(await groupRows(page).count()).toBe(g.groups.length);
    expect(await page.locator("#groups tbody tr.active button.row-filter").getAttribute("aria-pressed")).toBe("true");
    const listed = await d.api<DialoguePage>(`/api/stats/dialogues?${API_VIEW}&dim.agent=${agent}&surveysOnly=1&limit=25`);
    const agents = await page.locator("#dialogues tbody td.dim-agent").allTextContents();
    expect(agents.length).toBe(listed.rows.length);
    expect(new Set(agents)).toEqual(new Set([agent]));
    expect(await page.locator('[data-delta="average"]').textContent()).toMatch(one.previous!.change.average! > 0 ? /▲/ : /▼/);
    await screenshot(page, "dashboard-one-agent.png");

    await page.reload();
    await page.locator("body[data-loaded]").waitFor();
    await cardsShow(page, one);
    expect(await chip.count()).toBe(1);

    await page.goBack();
    await cardsShow(page, all);
    expect(await page.locator("#chips-bar").isHidden()).toBe(true);
    await expect.poll(() => groupRows(page).count()).toBe(g.groups.length);
    await page.goForward();
    await cardsShow(page, one);
    // Another row switches agent (the filter is replaced, not added to).
    const third = g.groups[3]!.value;
    await page.locator(`#groups tbody tr[data-value="${third}"] td[data-col="average"]`).click();
    await cardsShow(page, await d.api<Figures>(`/api/stats/figures?${API_VIEW}&dim.agent=${third}`));
    expect(await chip.allTextContents()).toEqual([`Agent: ${third}×`]);
    await page.goBack();
    await cardsShow(page, one);

    // The chip's × removes the filter; the keyboard reaches a row through its button.
    await page.getByRole("button", { name: `Remove the filter agent ${agent}` }).click();
    await cardsShow(page, all);
    expect(new URL(page.url()).searchParams.has("dim.agent")).toBe(false);
    await expect.poll(() => groupRows(page).count()).toBe(g.groups.length);
    const other = g.groups[2]!.value;
    await page.locator(`#groups tbody tr[data-value="${other}"] button.row-filter`).focus();
    await page.keyboard.press("Enter");
    await cardsShow(page, await d.api<Figures>(`/api/stats/figures?${API_VIEW}&dim.agent=${other}`));
    expect(await chip.allTextContents()).toEqual([`Agent: ${other}×`]);
    await page.close();
  });

  it("groups by team and by tag as the API does, and reads well in dark mode", async () => {
    const page = await open(`${VIEW}&group=team`);
    const teams = await d.api<GroupedFigures>(`/api/stats/figures?${API_VIEW}&group_by=team&limit=200`);
    await expect.poll(() => page.locator('#groups tbody td[data-col="value"] button span:first-child').allTextContents()).toEqual(teams.groups.map((x) => x.value));
    expect(await page.locator('#groups tbody td[data-col="surveys"]').allTextContents()).toEqual(teams.groups.map((x) => String(x.surveys)));
    expect(await page.locator("#groups th").first().textContent()).toContain("Team");
    await page.getByLabel("Group by").selectOption("tags");
    const tags = await d.api<GroupedFigures>(`/api/stats/figures?${API_VIEW}&group_by=tags&limit=200`);
    await expect.poll(() => page.locator('#groups tbody td[data-col="value"] button span:first-child').allTextContents()).toEqual(tags.groups.map((x) => x.value));
    expect(await page.locator("#groups-note").textContent()).toContain("A survey with several tags counts under each of them.");
    await page.getByLabel("Group by").selectOption("");
    await expect.poll(() => page.locator("#groups-wrap").isHidden()).toBe(true);
    expect(await page.locator("#groups-hint").isVisible()).toBe(true);
    await page.goBack();
    await expect.poll(() => page.locator("#groups tbody tr").count()).toBe(tags.groups.length);
    await page.emulateMedia({ colorScheme: "dark" });
    await page.reload();
    await page.locator("body[data-loaded]").waitFor();
    await page.screenshot({ path: path.join(ARTIFACTS, "dashboard-dark.png"), fullPage: true });
    await page.close();
  });

  it("shows the dimensions in the dialogue list and finds a dialogue by its ticket", async () => {
    const page = await open(VIEW);
    const target = d.plan.find((p) => p.dims && p.completed && p.scenarioId === "csat" && p.startedAt >= Date.parse(`${PERIOD.from}T00:00:00Z`) && p.dims.tags.length > 1)!;
    expect(target).toBeDefined();
    await page.getByRole("searchbox", { name: "Ticket" }).fill(target.dims!.ticket);
    await page.getByRole("search").getByRole("button", { name: "Find" }).press("Enter");
    await expect.poll(() => page.locator("#dialogues tbody tr").count()).toBe(1);
    const row = page.locator("#dialogues tbody tr").first();
    expect(await row.locator("td.dim-ticket").textContent()).toBe(target.dims!.ticket);
    expect(await row.locator("td.dim-agent").textContent()).toBe(target.dims!.agent);
    expect(await row.locator("td.dim-team").textContent()).toBe(target.dims!.team);
    expect(await row.locator("td.dim-tags .tag").allTextContents()).toEqual(target.dims!.tags);
    expect(new URL(page.url()).searchParams.get("ticket")).toBe(target.dims!.ticket);
    // The figures are the period's still: the search is the list's.
    expect(await figure(page, "surveys")).toBe(String((await d.api<Figures>(`/api/stats/figures?${API_VIEW}`)).surveys));
    await page.reload();
    await page.locator("body[data-loaded]").waitFor();
    await expect.poll(() => page.locator("#dialogues tbody tr").count()).toBe(1);
    expect(await page.getByRole("searchbox", { name: "Ticket" }).inputValue()).toBe(target.dims!.ticket);

    await page.getByRole("searchbox", { name: "Ticket" }).fill("T-nope");
    await page.getByRole("searchbox", { name: "Ticket" }).press("Enter");
    await page.getByText("No dialogue with ticket “T-nope” in this period and filter.").waitFor();
    expect(await page.locator("#dialogues tbody tr").count()).toBe(0);
    await page.close();
  });

  it("has an empty state for a period without surveys", async () => {
    const page = await open("from=2025-01-01&to=2025-01-31&group=agent");
    expect(await figure(page, "surveys")).toBe("0");
    expect(await figure(page, "average")).toBe("–");
    expect(await page.locator("#distribution .chart-empty").isVisible()).toBe(true);
    expect(await page.locator("#trend .chart-empty").isVisible()).toBe(true);
    expect(await page.locator("#groups-empty").isVisible()).toBe(true);
    expect(await page.locator("#empty").isVisible()).toBe(true);
    expect(await page.locator("#notes").textContent()).toBe("No dialogues in this period or filter.");
    expect(await page.locator("#problem").isHidden()).toBe(true);
    await page.close();
  });

  it("says what went wrong when the API answers 400 or 503, and recovers", async () => {
    const bad = await open(`${VIEW}&dim.agent=${"x".repeat(201)}`, { loaded: false });
    const alert = bad.getByRole("alert");
    await alert.waitFor();
    expect((await alert.textContent())?.replace(/\s+/g, " ")).toMatch(/These figures cannot be shown\. The API refused the view \(dim\.agent\): dim\.agent must be at most 200 characters/);
    expect(await bad.getByRole("link", { name: "Reset the filters" }).isVisible()).toBe(true);
    expect(await figure(bad, "surveys")).toBe("–");
    await bad.close();

    const down = await open(VIEW);
    const before = await figure(down, "surveys");
    await down.route("**/api/stats/figures?*", (route) => route.fulfill({ status: 503, contentType: "application/json", body: JSON.stringify({ error: "unavailable", message: "the statistics store did not answer" }) }));
    await down.getByRole("button", { name: "Apply" }).click();
    await down.getByRole("alert").waitFor();
    expect((await down.getByRole("alert").textContent())?.replace(/\s+/g, " ")).toMatch(/The statistics store is not answering\..*tries again every 600 s/);
    expect(await figure(down, "surveys")).toBe(before); // the last figures stay
    await down.unroute("**/api/stats/figures?*");
    await down.getByRole("button", { name: "Apply" }).click();
    await expect.poll(() => down.getByRole("alert").isHidden()).toBe(true);
    await down.close();
  });

  for (const [width, shot] of [[390, "dashboard-phone.png"], [1280, "dashboard.png"], [1920, "dashboard-wide.png"]] as const) {
    it(`lays out at ${width} px: no horizontal overflow, the filter row in full lines, the cards, charts and dialogue list readable`, async () => {
      const wide = await browser.newContext({ viewport: { width, height: 1000 }, locale: "en-US", timezoneId: "UTC", deviceScaleFactor: width === 390 ? 2 : 1 });
      try {
        const page = await open(VIEW, { in: wide });
        const f = await d.api<Figures>(`/api/stats/figures?${API_VIEW}&compare=previous`);
        await cardsShow(page, f);
        await expect.poll(() => page.locator("#dialogues tbody tr").count()).toBe(25);
        // Nothing wider than the window: no sideways scrolling of the page.
        expect(await page.evaluate("document.documentElement.scrollWidth")).toBeLessThanOrEqual(width);
        // The filter row: one or two lines at 1280 and 1920; every line full (its controls reach both edges, no hole at its end).
        const { row, lines } = await filterLines(page);
        if (width >= 1280) expect(lines.length, JSON.stringify(lines)).toBeLessThanOrEqual(2);
        for (const line of lines) {
          expect(line[0]!.x - row.x, JSON.stringify(line)).toBeLessThan(2);
          const last = line[line.length - 1]!;
          expect(row.x + row.width - (last.x + last.width), JSON.stringify(line)).toBeLessThan(2);
          for (let i = 1; i < line.length; i++) expect(line[i]!.x - (line[i - 1]!.x + line[i - 1]!.width)).toBeLessThan(16);
        }
        // No button or link in it wraps its text: each is one line high, its text fits.
        for (const b of await page.locator("#filters button, #filters a").all()) {
          const m = (await b.evaluate((e) => ({ h: e.getBoundingClientRect().height, sw: e.scrollWidth, cw: e.clientWidth, text: e.textContent, }))) as { h: number; sw: number; cw: number; text: string };
          expect(m.sw, m.text).toBeLessThanOrEqual(m.cw + 1);
          expect(m.h, m.text).toBeLessThan(48);
        }
        // The dialogue list: no hidden sideways scroll; every row's cells inside the window.
        const wrap = await page.locator("#dialogues").locator("xpath=..").evaluate((e) => ({ sw: e.scrollWidth, cw: e.clientWidth }));
        expect(wrap.sw).toBeLessThanOrEqual(wrap.cw);
        const first = page.locator("#dialogues tbody tr").first();
        for (const td of await first.locator("td").all()) {
          if (!(await td.isVisible())) continue;
          const b = (await td.boundingBox())!;
          expect(b.x).toBeGreaterThanOrEqual(0);
          expect(b.x + b.width).toBeLessThanOrEqual(width);
        }
        const csatCell = first.locator("td.csat");
        expect(await csatCell.isVisible()).toBe(true);
        if (width === 390) {
          // Stacked: each value under its column's name, the header row out of sight, one card per dialogue.
          expect(await page.locator("#dialogues thead").evaluate((e) => e.getBoundingClientRect().height)).toBeLessThanOrEqual(1);
          expect(await csatCell.evaluate((e) => e.ownerDocument.defaultView!.getComputedStyle(e, "::before").content)).toBe('"CSAT"');
          expect(await first.locator("td.comment").evaluate((e) => e.ownerDocument.defaultView!.getComputedStyle(e, "::before").content)).toBe('"Client comment"');
          const rows = await page.locator("#dialogues tbody tr").evaluateAll((els) => els.slice(0, 3).map((e) => e.getBoundingClientRect().width));
          for (const w of rows) expect(w).toBeGreaterThan(width - 80);
        } else {
          expect(await page.locator("#dialogues thead").isVisible()).toBe(true);
          // The columns side by side: the CSAT cell sits on the same line as the start time.
          const started = (await first.locator("td.started").boundingBox())!;
          expect(Math.abs((await csatCell.boundingBox())!.y - started.y)).toBeLessThan(2);
        }
        // Every chart has room: the cards, then the charts, none squeezed below a readable width.
        for (const id of ["distribution-canvas", "volume-canvas", "trend-canvas"]) {
          const b = (await page.locator(`#${id}`).boundingBox())!;
          expect(b.width, id).toBeGreaterThan(Math.min(300, width - 80));
          expect(b.x + b.width, id).toBeLessThanOrEqual(width);
        }
        await screenshot(page, shot);
        await page.close();
      } finally {
        await wide.close();
      }
    });
  }

  it("shows the CSAT score card and column, a volume chart per day, and reads one day of data", async () => {
    const page = await open(`${VIEW}&group=agent`);
    const f = await d.api<Figures>(`/api/stats/figures?${API_VIEW}&compare=previous`);
    await cardsShow(page, f);
    expect(await page.locator('[data-interval="csat"]').textContent()).toBe(`95 % CI ${fixed(f.csatInterval!.low * 100, 1)}–${fixed(f.csatInterval!.high * 100, 1)} %`);
    const g = await d.api<GroupedFigures>(`/api/stats/figures?${API_VIEW}&group_by=agent&limit=200`);
    await expect.poll(() => groupRows(page).count()).toBe(g.groups.length);
    for (const x of g.groups) {
      const cell = page.locator(`#groups tbody tr[data-value="${x.value}"] td[data-col="csat"]`);
      expect(await cell.textContent(), x.value).toBe(`${fixed(x.csat! * 100, 1)} (${fixed(x.csatInterval!.low * 100, 1)}–${fixed(x.csatInterval!.high * 100, 1)}) %`);
    }
    await page.locator('#groups th[data-sort="csat"] button').click();
    const sorted = (await columnNumbers(page, "csat")) as number[];
    expect(sorted).toEqual([...sorted].sort((a, b) => b - a));
    // Volume: dialogues and surveys of every day, as the API has them.
    expect(await page.evaluate(`Chart.getChart("volume-canvas").data.datasets.map((s) => s.data)`)).toEqual([f.trend.points.map((p) => p.dialogues), f.trend.points.map((p) => p.surveys)]);
    expect(await page.locator("#volume-unit").textContent()).toBe("(dialogues and surveys per day)");
    await page.close();

    // One day: one point, drawn as a visible dot over a bar of ordinary width, in the middle of the chart.
    const one = await open("from=2026-03-20&to=2026-03-20&scenario=csat");
    const day = await d.api<Figures>("/api/stats/figures?from=2026-03-20&to=2026-03-20&scenario=csat&tz=UTC");
    expect(day.trend.points).toHaveLength(1);
    await expect.poll(() => one.evaluate(`Chart.getChart("trend-canvas").data.datasets[0].data`)).toEqual([day.trend.points[0]!.average]);
    const geometry = (await one.evaluate(`(() => {
      const c = Chart.getChart("trend-canvas");
      const dot = c.getDatasetMeta(0).data[0];
      const bar = c.getDatasetMeta(1).data[0];
      const v = Chart.getChart("volume-canvas").getDatasetMeta(0).data[0];
      return { radius: dot.options.radius, x: dot.x, y: dot.y, barWidth: bar.width, left: c.chartArea.left, right: c.chartArea.right, top: c.chartArea.top, bottom: c.chartArea.bottom, volumeBar: v.width, min: c.scales.y.min, max: c.scales.y.max };
    })()`)) as { radius: number; x: number; y: number; barWidth: number; left: number; right: number; top: number; bottom: number; volumeBar: number; min: number; max: number };
    expect(geometry.radius).toBeGreaterThanOrEqual(6);
    expect(geometry.barWidth).toBeLessThanOrEqual(48);
    expect(geometry.volumeBar).toBeLessThanOrEqual(40);
    expect(Math.abs(geometry.x - (geometry.left + geometry.right) / 2)).toBeLessThan(4);
    expect(geometry.y).toBeGreaterThan(geometry.top);
    expect(geometry.y).toBeLessThan(geometry.bottom);
    expect([geometry.min, geometry.max]).toEqual([1, 5]);
    await one.screenshot({ path: path.join(ARTIFACTS, "dashboard-one-day.png"), fullPage: true });
    await one.close();
  });

  it("sets the period with the presets (last 7 days, last 30 days, this month) and filters the list by rating", async () => {
    const page = await open(VIEW);
    const today = new Date().toISOString().slice(0, 10);
    const back = (n: number) => new Date(Date.now() - n * 86_400_000).toISOString().slice(0, 10);
    for (const [name, from] of [["Last 7 days", back(6)], ["This month", `${today.slice(0, 8)}01`], ["Last 30 days", back(29)]] as const) {
      const figures = page.waitForRequest((r) => r.url().includes("/api/stats/figures?") && r.url().includes(`from=${from}`));
      await page.getByRole("button", { name }).click();
      const q = new URL((await figures).url()).searchParams;
      expect([q.get("from"), q.get("to")], name).toEqual([from, today]);
      expect(await page.locator('input[name="from"]').inputValue()).toBe(from);
      expect(await page.locator('input[name="to"]').inputValue()).toBe(today);
      expect(await page.getByRole("button", { name }).getAttribute("aria-pressed")).toBe("true");
      expect(await page.locator('[data-preset][aria-pressed="true"]').count()).toBe(1);
    }
    // The last 30 days is the default view: the URL says nothing of the period.
    expect(new URL(page.url()).searchParams.has("from")).toBe(false);
    await page.close();

    const list = await open(VIEW);
    const f = await d.api<Figures>(`/api/stats/figures?${API_VIEW}`);
    await list.getByRole("combobox", { name: "Rating" }).selectOption("1-2");
    const low = await d.api<DialoguePage>(`/api/stats/dialogues?${API_VIEW}&surveysOnly=1&rating=1-2&limit=25`);
    expect(low.rows.length).toBe(25);
    await expect.poll(() => list.locator("#dialogues tbody td.csat").allTextContents()).toEqual(low.rows.map((r) => String(r.score)));
    expect(new Set(await list.locator("#dialogues tbody td.csat").allTextContents())).toEqual(new Set(["1", "2"]));
    expect(new URL(list.url()).searchParams.get("rating")).toBe("1-2");
    expect(new URL((await list.locator("#export").getAttribute("href"))!, d.url).searchParams.get("rating")).toBe("1-2");
    // The figures stay the period's: the rating narrows the list only.
    expect(await figure(list, "surveys")).toBe(String(f.surveys));
    await list.reload();
    await list.locator("body[data-loaded]").waitFor();
    expect(await list.getByRole("combobox", { name: "Rating" }).inputValue()).toBe("1-2");
    await list.getByRole("combobox", { name: "Rating" }).selectOption("4-5");
    await expect.poll(async () => new Set(await list.locator("#dialogues tbody td.csat").allTextContents())).toEqual(new Set(["4", "5"]));
    await list.close();
  });

  it("logs no comment, no id and no error to the console, and fetches nothing from another host", () => {
    expect(pageErrors).toEqual([]);
    const origin = new URL(d.url).origin;
    expect(requests.filter((u) => !u.startsWith(origin) && !u.startsWith("data:"))).toEqual([]);
    // Chromium itself reports the refused and failed answers; nothing else may appear.
    const unexpected = consoleLines.filter((l) => !/^error: Failed to load resource: the server responded with a status of (400|503)/.test(l));
    expect(unexpected).toEqual([]);
    for (const l of consoleLines) expect(l).not.toMatch(/comment \d|\bc\d+\b|\bg\d+\b|T-\d+/);
  });
});
