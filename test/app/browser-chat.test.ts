/**
 * The pages in real headless Chromium: in the web chat a user taps 4, types a comment and
 * sees the thanks (buttons disabled, a reload resumes); the dashboard open beside it shows
 * one more survey with that score and comment without a reload, its charts drawn.
 */
import path from "node:path";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { PgliteSurveyStore } from "../../stats/store/pglite-survey-store.ts";
import { openSharedStore, startTestApp, storedDialogue, type TestApp } from "./app-harness.ts";
import { ARTIFACTS, launchBrowser } from "./browser.ts";

let store: PgliteSurveyStore;
let browser: Browser;
let t: TestApp;
let url: string;
beforeAll(async () => {
  store = await openSharedStore();
  browser = await launchBrowser();
  t = await startTestApp({}, { surveyStore: store });
  ({ url } = await t.app.listen());
});
afterAll(async () => {
  await browser?.close();
  await t?.dispose();
  await store?.close();
});

describe("web chat and dashboard in Chromium", () => {
  it("runs the CSAT survey with taps and typing, on a phone-sized screen", async () => {
    const errors: string[] = [];
    const dashboard = await browser.newPage({ viewport: { width: 1200, height: 1100 }, locale: "en-US" });
    dashboard.on("pageerror", (e) => errors.push(`dashboard: ${e.message}`));
    dashboard.on("console", (m) => m.type() === "error" && errors.push(`dashboard: ${m.text()}`));
    await dashboard.goto(`${url}/dashboard?refresh=1`);
    const surveysCard = dashboard.locator('[data-figure="surveys"]');
    await expect.poll(() => surveysCard.textContent()).toMatch(/^\d+$/);
    const before = Number(await surveysCard.textContent());

    const page = await browser.newPage({ viewport: { width: 390, height: 844 }, locale: "en-US" });
    page.on("pageerror", (e) => errors.push(e.message));
    page.on("console", (m) => m.type() === "error" && errors.push(m.text()));
    await page.goto(`${url}/chat`);

    const rating = page.getByRole("group", { name: /Please rate the quality of service/ });
    await rating.getByRole("button", { name: "4", exact: true }).click();
    await expect.poll(() => rating.getByRole("button", { name: "4", exact: true }).getAttribute("aria-pressed")).toBe("true");
    expect(await rating.getByRole("button", { name: "5", exact: true }).isDisabled()).toBe(true);

    await page.getByText("Would you like to add a comment to your rating?").waitFor();
    await page.getByLabel("Your message").fill("Lovely service from the browser");
    await page.getByRole("button", { name: "Send" }).click();
    await page.getByText("Thank you for your feedback!").waitFor();
    await page.screenshot({ path: path.join(ARTIFACTS, "webchat.png"), fullPage: true });

    const conversationId = await page.evaluate("localStorage.getItem(\"botflow.webchat.conversation\")");
    expect(conversationId).toMatch(/^[A-Za-z0-9_-]{24}$/);
    expect(await storedDialogue(store, conversationId as string)).toMatchObject({ score: 4, comment: "Lovely service from the browser", completed: true });
    // The typed comment shows once, not twice (the page's echo and the server's edit).
    expect(await page.getByText("Lovely service from the browser").count()).toBe(1);

    await page.getByLabel("Your message").fill("anyone there?");
    await page.getByRole("button", { name: "Send" }).click();
    await page.getByText("This conversation has ended. Tap “Start over” to begin a new one.").waitFor();

    await page.reload();
    await page.getByText("Thank you for your feedback!").waitFor();
    expect(await page.getByText("Lovely service from the browser").count()).toBe(1);
    expect(await page.getByRole("group", { name: /Please rate/ }).getByRole("button", { name: "4", exact: true }).getAttribute("aria-pressed")).toBe("true");
    // The dashboard picks the survey up by itself (it polls), with the score and the comment.
    await expect.poll(() => surveysCard.textContent(), { timeout: 15_000 }).toBe(String(before + 1));
    const row = dashboard.locator("#dialogues tbody tr", { hasText: "Lovely service from the browser" });
    await row.waitFor();
    expect(await row.locator("td.csat").textContent()).toBe("4");
    expect(Number(await dashboard.locator('#distribution [data-value="4"]').getAttribute("data-count"))).toBeGreaterThanOrEqual(1);
    expect(await dashboard.locator("#trend canvas").count()).toBe(1);
    expect(await dashboard.getByRole("img", { name: /Ratings distribution/ }).count()).toBe(1);
    await dashboard.screenshot({ path: path.join(ARTIFACTS, "dashboard.png"), fullPage: true });
    await dashboard.setViewportSize({ width: 390, height: 844 });
    await dashboard.screenshot({ path: path.join(ARTIFACTS, "dashboard-phone.png"), fullPage: true });

    expect(errors, errors.join("\n")).toEqual([]);
    await page.close();
    await dashboard.close();
  });
});
