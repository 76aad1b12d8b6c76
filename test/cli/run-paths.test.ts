/**
 * `botflow run --json` drives every example scenario through every path a user can take,
 * asserting the messages, the saved variables, whether the dialogue ended and the survey
 * events queued for statistics.
 */
import { afterAll, describe, expect, it } from "vitest";
import { removeDialogues, playOne, type RunDialogue } from "./run-json.ts";

afterAll(removeDialogues);

const T = {
  csat: {
    rating: "Please rate the quality of service from 1 (very dissatisfied) to 5 (very satisfied).",
    ratingUk: "Будь ласка, оцініть якість обслуговування від 1 (дуже незадоволений) до 5 (дуже задоволений).",
    invalid: "Please tap a number from 1 to 5, or type it.",
    comment: "Thank you! Would you like to add a comment to your rating?",
    commentUk: "Дякуємо! Бажаєте додати коментар до оцінки?",
    thanks: "Thank you for your feedback!",
    thanksUk: "Дякуємо за ваш відгук!",
    declined: "No problem. Thank you for your time!",
    declinedUk: "Гаразд. Дякуємо, що приділили нам час!",
  },
  emoji: {
    rating: "Were you happy with our service today?",
    ratingUk: "Чи задоволені ви нашим обслуговуванням сьогодні?",
    invalid: "Please tap 👍 or 👎 (or type 1 for 👍, 2 for 👎).",
    invalidUk: "Будь ласка, натисніть 👍 або 👎 (або введіть 1 для 👍, 2 для 👎).",
    comment: 'Thank you! Would you like to tell us more? Type a comment, or tap "No comment".',
    commentUk: "Дякуємо! Бажаєте розповісти більше? Напишіть коментар або натисніть «Без коментаря».",
    commentInvalid: 'Please type your comment (up to 2000 characters), or tap "No comment".',
    thanks: "Thank you for your feedback!",
    thanksUk: "Дякуємо за ваш відгук!",
    declined: "No problem. Thank you for your time!",
    declinedUk: "Гаразд. Дякуємо, що приділили нам час!",
  },
  branching: {
    rating: "How would you rate our service today, from 1 (very poor) to 5 (excellent)?",
    ratingUk: "Як ви оцінюєте наше обслуговування сьогодні — від 1 (дуже погано) до 5 (чудово)?",
    invalid: "Please tap a number from 1 to 5, or type it.",
    wrong: "We are sorry to hear that. What went wrong?",
    better: (n: number) => `Thank you for the ${n}! What could we do better to make it a 5?`,
    betterUk: (n: number) => `Дякуємо за оцінку ${n}! Що нам зробити краще, щоб наступного разу це була 5?`,
    thanks: "Thank you for your feedback!",
    thanksUk: "Дякуємо за ваш відгук!",
    declined: "No problem. Thank you for your time!",
    declinedUk: "Гаразд. Дякуємо, що приділили нам час!",
  },
};

interface PathCase {
  name: string;
  turns: unknown[];
  locale?: string;
  texts: string[];
  variables: Record<string, string | number>;
  ended?: boolean;
  /** The survey statistic__set queued, or null when it queued none. */
  completed: { score?: number; comment: string } | null;
  /** Why the rating was declined (skipped, invalid, timeout), when it was. */
  declined?: string;
  ignored?: { turn: number; reason: string }[];
}

function check(d: RunDialogue, c: PathCase): void {
  expect(d.error).toBeUndefined();
  expect(d.messages.map((m) => m.text)).toEqual(c.texts);
  expect(d.variables).toEqual(c.variables);
  expect(d.ended).toBe(c.ended ?? true);
  const completed = d.events.filter((e) => e.kind === "completed");
  expect(completed).toEqual(c.completed ? [{ kind: "completed", ...c.completed }] : []);
  expect(d.events.filter((e) => e.kind === "declined").map((e) => e.reason)).toEqual(c.declined ? [c.declined] : []);
  expect(d.events.filter((e) => e.kind === "dialogue_started")).toHaveLength(1);
  // A rating is counted once however often it was tapped.
  const answered = d.events.filter((e) => e.kind === "answered");
  expect(answered).toEqual(typeof c.variables.quality_answer === "number" ? [{ kind: "answered", score: c.variables.quality_answer }] : []);
  expect(d.ignored).toEqual(c.ignored ?? []);
}

function suite(scenario: string, cases: PathCase[]): void {
  describe(`scenarios/${scenario}.yaml`, () => {
    for (const c of cases) {
      it(c.name, async () => check(await playOne(scenario, c.turns, c.locale ? ["--locale", c.locale] : []), c));
    }
  });
}

const C = T.csat;
suite("csat", [
  {
    name: "tap a rating, type a comment",
    turns: [{ tap: "4" }, "Fast and friendly"],
    texts: [C.rating, C.comment, C.thanks],
    variables: { quality_answer: 4, quality_comment: "Fast and friendly" },
    completed: { score: 4, comment: "Fast and friendly" },
  },
  {
    name: "typed digit, then the comment's skip button",
    turns: ["5", { tap: "No comment" }],
    texts: [C.rating, C.comment, C.thanks],
    variables: { quality_answer: 5 },
    completed: { score: 5, comment: "" },
  },
  {
    name: "tap by value, then the skip label typed in another case",
    turns: [{ tap: 2 }, "no COMMENT"],
    texts: [C.rating, C.comment, C.thanks],
    variables: { quality_answer: 2 },
    completed: { score: 2, comment: "" },
  },
  { name: "typed skip label", turns: ["Skip"], texts: [C.rating, C.declined], variables: {}, completed: null, declined: "skipped" },
  { name: "tap skip", turns: [{ tap: "Skip" }], texts: [C.rating, C.declined], variables: {}, completed: null, declined: "skipped" },
  {
    name: "invalid text, then a valid retry",
    turns: ["great", "3", "Could be faster"],
    texts: [C.rating, C.invalid, C.comment, C.thanks],
    variables: { quality_answer: 3, quality_comment: "Could be faster" },
    completed: { score: 3, comment: "Could be faster" },
  },
  {
    name: "a digit that is no button is invalid, not a rating",
    turns: ["6", "0", { tap: "1" }, "Bad"],
    texts: [C.rating, C.invalid, C.invalid, C.comment, C.thanks],
    variables: { quality_answer: 1, quality_comment: "Bad" },
    completed: { score: 1, comment: "Bad" },
  },
  {
    name: "two invalid answers still wait (max_attempts: 2)",
    turns: ["great", "very good"],
    texts: [C.rating, C.invalid, C.invalid],
    variables: {},
    ended: false,
    completed: null,
  },
  {
    name: "invalid until the attempts run out",
    turns: ["great", "very good", "excellent"],
    texts: [C.rating, C.invalid, C.invalid, C.declined],
    variables: {},
    completed: null,
    declined: "invalid",
  },
  {
    name: "double tap on a stale keyboard is ignored and counted once",
    turns: [{ tap: "4" }, { tap: "4", prompt: "previous" }, { tap: "5", prompt: 1 }, "Nice"],
    texts: [C.rating, C.comment, C.thanks],
    variables: { quality_answer: 4, quality_comment: "Nice" },
    completed: { score: 4, comment: "Nice" },
    ignored: [
      { turn: 2, reason: "stale_prompt" },
      { turn: 3, reason: "stale_prompt" },
    ],
  },
  {
    name: "a tap on the keyboard an invalid answer replaced is stale",
    turns: ["great", { tap: "2", prompt: 1 }, { tap: "3" }, { tap: "No comment" }],
    texts: [C.rating, C.invalid, C.comment, C.thanks],
    variables: { quality_answer: 3 },
    completed: { score: 3, comment: "" },
    ignored: [{ turn: 2, reason: "stale_prompt" }],
  },
  { name: "no answer to the rating ends quietly", turns: [{ wait: "25h" }], texts: [C.rating], variables: {}, completed: null, declined: "timeout" },
  {
    name: "rating, then no comment in time",
    turns: [{ tap: "1" }, { wait: "1h" }],
    texts: [C.rating, C.comment, C.thanks],
    variables: { quality_answer: 1 },
    completed: { score: 1, comment: "" },
  },
  {
    name: "locale uk picks the translation",
    locale: "uk",
    turns: [{ tap: "5" }, "Дуже швидко"],
    texts: [C.ratingUk, C.commentUk, C.thanksUk],
    variables: { quality_answer: 5, quality_comment: "Дуже швидко" },
    completed: { score: 5, comment: "Дуже швидко" },
  },
  {
    name: "locale uk-UA falls back to uk; the translated skip label typed",
    locale: "uk-UA",
    turns: ["Пропустити"],
    texts: [C.ratingUk, C.declinedUk],
    variables: {},
    completed: null,
    declined: "skipped",
  },
]);

const E = T.emoji;
suite("csat-emoji", [
  {
    name: "tap 👍 records 100, then a comment",
    turns: [{ tap: "👍" }, "Quick answer"],
    texts: [E.rating, E.comment, E.thanks],
    variables: { quality_answer: 100, quality_comment: "Quick answer" },
    completed: { score: 100, comment: "Quick answer" },
  },
  {
    name: "typed 👎 records 0",
    turns: ["👎", { tap: "No comment" }],
    texts: [E.rating, E.comment, E.thanks],
    variables: { quality_answer: 0 },
    completed: { score: 0, comment: "" },
  },
  {
    name: "typed 👍 with an emoji variation selector",
    turns: ["👍\uFE0F", "No comment"],
    texts: [E.rating, E.comment, E.thanks],
    variables: { quality_answer: 100 },
    completed: { score: 100, comment: "" },
  },
  {
    name: "typed digit picks the button by position",
    turns: ["2", "Slow"],
    texts: [E.rating, E.comment, E.thanks],
    variables: { quality_answer: 0, quality_comment: "Slow" },
    completed: { score: 0, comment: "Slow" },
  },
  {
    name: "tap by value",
    turns: [{ tap: 100 }, { tap: "No comment" }],
    texts: [E.rating, E.comment, E.thanks],
    variables: { quality_answer: 100 },
    completed: { score: 100, comment: "" },
  },
  { name: "typed skip label", turns: ["skip"], texts: [E.rating, E.declined], variables: {}, completed: null, declined: "skipped" },
  { name: "tap skip", turns: [{ tap: "Skip" }], texts: [E.rating, E.declined], variables: {}, completed: null, declined: "skipped" },
  {
    name: "invalid text, then a valid retry",
    turns: ["5", "👍", "No comment"],
    texts: [E.rating, E.invalid, E.comment, E.thanks],
    variables: { quality_answer: 100 },
    completed: { score: 100, comment: "" },
  },
  {
    name: "invalid until the attempts run out",
    turns: ["yes", "good", "ok"],
    texts: [E.rating, E.invalid, E.invalid, E.declined],
    variables: {},
    completed: null,
    declined: "invalid",
  },
  {
    name: "double tap on a stale keyboard is ignored and counted once",
    turns: [{ tap: "👎" }, { tap: "👍", prompt: "previous" }, "Rude agent"],
    texts: [E.rating, E.comment, E.thanks],
    variables: { quality_answer: 0, quality_comment: "Rude agent" },
    completed: { score: 0, comment: "Rude agent" },
    ignored: [{ turn: 2, reason: "stale_prompt" }],
  },
  {
    name: "a blank comment re-prompts",
    turns: [{ tap: "👍" }, "   ", "Great"],
    texts: [E.rating, E.comment, E.commentInvalid, E.thanks],
    variables: { quality_answer: 100, quality_comment: "Great" },
    completed: { score: 100, comment: "Great" },
  },
  {
    name: "a comment over 2000 characters re-prompts, then gives up after two tries with the rating saved",
    turns: [{ tap: "👍" }, "x".repeat(2001), "y".repeat(2001), "z".repeat(2001)],
    texts: [E.rating, E.comment, E.commentInvalid, E.commentInvalid, E.thanks],
    variables: { quality_answer: 100 },
    completed: { score: 100, comment: "" },
  },
  { name: "no answer to the question ends quietly", turns: [{ wait: "24h" }], texts: [E.rating], variables: {}, completed: null, declined: "timeout" },
  {
    name: "locale uk picks the translation",
    locale: "uk",
    turns: ["так", "Пропустити"],
    texts: [E.ratingUk, E.invalidUk, E.declinedUk],
    variables: {},
    completed: null,
    declined: "skipped",
  },
  {
    name: "locale uk: 👍 and a comment",
    locale: "uk",
    turns: [{ tap: "👍" }, "Усе чудово"],
    texts: [E.ratingUk, E.commentUk, E.thanksUk],
    variables: { quality_answer: 100, quality_comment: "Усе чудово" },
    completed: { score: 100, comment: "Усе чудово" },
  },
]);

const B = T.branching;
suite("csat-branching", [
  {
    name: "rating 1 asks what went wrong",
    turns: [{ tap: "1" }, "Waited too long"],
    texts: [B.rating, B.wrong, B.thanks],
    variables: { quality_answer: 1, quality_comment: "Waited too long" },
    completed: { score: 1, comment: "Waited too long" },
  },
  {
    name: "typed 2 asks what went wrong; no comment",
    turns: ["2", { tap: "No comment" }],
    texts: [B.rating, B.wrong, B.thanks],
    variables: { quality_answer: 2 },
    completed: { score: 2, comment: "" },
  },
  {
    name: "rating 3 asks what could be better",
    turns: [{ tap: "3" }, "Shorter answers"],
    texts: [B.rating, B.better(3), B.thanks],
    variables: { quality_answer: 3, quality_comment: "Shorter answers" },
    completed: { score: 3, comment: "Shorter answers" },
  },
  { name: "rating 4 thanks straight away", turns: [{ tap: "4" }], texts: [B.rating, B.thanks], variables: { quality_answer: 4 }, completed: { score: 4, comment: "" } },
  { name: "typed 5 thanks straight away", turns: ["5"], texts: [B.rating, B.thanks], variables: { quality_answer: 5 }, completed: { score: 5, comment: "" } },
  { name: "typed skip label", turns: ["Skip"], texts: [B.rating, B.declined], variables: {}, completed: null, declined: "skipped" },
  { name: "tap skip", turns: [{ tap: "Skip" }], texts: [B.rating, B.declined], variables: {}, completed: null, declined: "skipped" },
  {
    name: "invalid text, then a valid retry",
    turns: ["meh", "3", "No comment"],
    texts: [B.rating, B.invalid, B.better(3), B.thanks],
    variables: { quality_answer: 3 },
    completed: { score: 3, comment: "" },
  },
  {
    name: "invalid until the attempts run out",
    turns: ["meh", "0", "6"],
    texts: [B.rating, B.invalid, B.invalid, B.declined],
    variables: {},
    completed: null,
    declined: "invalid",
  },
  {
    name: "double tap on a stale keyboard is ignored and counted once",
    turns: [{ tap: "2" }, { tap: "2", prompt: "previous" }, "Nobody answered"],
    texts: [B.rating, B.wrong, B.thanks],
    variables: { quality_answer: 2, quality_comment: "Nobody answered" },
    completed: { score: 2, comment: "Nobody answered" },
    ignored: [{ turn: 2, reason: "stale_prompt" }],
  },
  {
    name: "double tap after the thank-you is ignored",
    turns: [{ tap: "5" }, { tap: "4", prompt: "previous" }],
    texts: [B.rating, B.thanks],
    variables: { quality_answer: 5 },
    completed: { score: 5, comment: "" },
    ignored: [{ turn: 2, reason: "no_dialogue" }],
  },
  {
    name: "no answer to the comment question saves the rating",
    turns: [{ tap: "3" }, { wait: "1h" }],
    texts: [B.rating, B.better(3), B.thanks],
    variables: { quality_answer: 3 },
    completed: { score: 3, comment: "" },
  },
  { name: "no answer to the rating ends quietly", turns: [{ wait: 86400 }], texts: [B.rating], variables: {}, completed: null, declined: "timeout" },
  {
    name: "locale uk picks the translation, with the rating substituted",
    locale: "uk",
    turns: [{ tap: "3" }, "Більше операторів"],
    texts: [B.ratingUk, B.betterUk(3), B.thanksUk],
    variables: { quality_answer: 3, quality_comment: "Більше операторів" },
    completed: { score: 3, comment: "Більше операторів" },
  },
  {
    name: "locale uk: typed skip label in lower case",
    locale: "uk",
    turns: ["пропустити"],
    texts: [B.ratingUk, B.declinedUk],
    variables: {},
    completed: null,
    declined: "skipped",
  },
]);

describe("what run --json shows", () => {
  it("lists each keyboard's buttons with label and value, skip last, and omits buttons on plain messages", async () => {
    const d = await playOne("csat-emoji", [{ tap: "👍" }, "Good"]);
    expect(d.messages).toEqual([
      { text: E.rating, buttons: [{ label: "👍", value: 100 }, { label: "👎", value: 0 }, { label: "Skip", value: "" }] },
      { text: E.comment, buttons: [{ label: "No comment", value: "" }] },
      { text: E.thanks },
    ]);
    expect(d.events).toEqual([
      { kind: "dialogue_started" },
      { kind: "offered", scale: { min: 0, max: 100 } },
      { kind: "answered", score: 100 },
      { kind: "commented", comment: "Good" },
      { kind: "completed", score: 100, comment: "Good" },
    ]);
  });
});
