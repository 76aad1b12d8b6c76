/**
 * A scenario's `start_on`: which first message, from someone with no dialogue in progress, starts
 * it. It governs the messages channels mark `startIfIdle` (WhatsApp Cloud, WhatsApp Web, Teams:
 * where writing to the bot is how a dialogue begins); explicit starts — a Telegram `/start`, the
 * web chat's start, a trigger, a goto_scenario, Teams' start on install — are asked for, and
 * always start it.
 *
 * - `text` (the default): typed text only. A photo of a receipt, a shared location or a contact
 *   card is usually part of a conversation with a person, or sent before the words it goes
 *   with, and a survey in answer to it puzzles the sender; typed text ("hi") is someone asking
 *   the bot for something. Channels that mark nothing `nonText` (all but WhatsApp Cloud so far)
 *   start exactly as they did before `start_on` existed.
 * - `any`: any message, media and another template's quick-reply button too (a bot whose whole
 *   job is the survey, where any contact means "I am here for it").
 * - `never`: nothing a user sends starts it: a scenario only triggers start (a CSAT sent after a
 *   ticket closes), so a stray "thanks" days later does not open an unasked-for survey.
 *
 * @example
 * startsOnMessage("text", { nonText: true }); // false: an image does not start a text-only scenario
 * startsOnMessage(undefined, {});             // true: typed text starts one by default
 */
import type { Scenario } from "./schema/scenario-schema.ts";
import { assertNever, type InboundEvent } from "./types.ts";

export type StartOn = NonNullable<Scenario["start_on"]>;

/** What a scenario without `start_on` does. */
export const DEFAULT_START_ON: StartOn = "text";

/** Whether a `startIfIdle` message starts a scenario whose `start_on` is `startOn`. */
export function startsOnMessage(startOn: StartOn | undefined, event: Pick<InboundEvent, "nonText">): boolean {
  const rule = startOn ?? DEFAULT_START_ON;
  switch (rule) {
    case "any":
      return true;
    case "text":
      return event.nonText !== true;
    case "never":
      return false;
    default:
      return assertNever(rule, "start_on");
  }
}
