/**
 * Every channel's limits at load: errors for the enabled channels, warnings for the others, one
 * line per mistake however many channels it is one for; a channel's own planQuestion problems at
 * the part of the question they name. And the channels' real plans (channels/<name>/capabilities.ts).
 */
import { describe, expect, it } from "vitest";
import { CHANNEL_LIMITS } from "../../channels/capabilities.ts";
import { CHANNEL_MODULES } from "../../channels/index.ts";
import { planTeamsQuestion } from "../../channels/teams/capabilities.ts";
import { planTelegramQuestion } from "../../channels/telegram/capabilities.ts";
import { planWhatsappCloudQuestion } from "../../channels/whatsapp-cloud/capabilities.ts";
import type { ChannelLimits, QuestionMessage } from "../../engine/catalog.ts";
import type { ScenarioProblem } from "../../engine/errors.ts";
import { loadScenarioText } from "../../engine/loader.ts";

const show = (p: ScenarioProblem): string => `${p.line}:${p.col} ${p.severity}: ${p.message}`;
const limits = (channel: string, maxLabelLength: number, extra: Partial<ChannelLimits> = {}): ChannelLimits => ({ channel, maxLabelLength, maxButtons: 10, maxTextLength: 1000, ...extra });

const YAML = `id: t
start: ask
blocks:
  ask:
    type: message_with_keyboard
    text: Rate us
    buttons:
      - { label: "Absolutely wonderful", value: 1 }
      - { label: "2", value: 2 }
    next: bye
  bye:
    type: end
`;

describe("channel limits at load", () => {
  it("merges one mistake for two channels that are not enabled into one warning naming both", () => {
    const r = loadScenarioText(YAML, "t.yaml", { otherChannels: [limits("alpha", 10), limits("beta", 12)] });
    expect(r.problems.map(show)).toEqual(['8:18 warning: block "ask": label "Absolutely wonderful" is 20 characters; alpha allows 10 and beta 12: shorten it before enabling them']);
    expect(r.scenario).toBeDefined();
  });

  it("makes it an error for the enabled channel and a warning for the other, at the same line:col", () => {
    const r = loadScenarioText(YAML, "t.yaml", { channels: [limits("alpha", 10)], otherChannels: [limits("beta", 12)] });
    expect(r.problems.map(show)).toEqual([
      '8:18 error: block "ask": label "Absolutely wonderful" is 20 characters; alpha allows 10: shorten it',
      '8:18 warning: block "ask": label "Absolutely wonderful" is 20 characters; beta allows 12: shorten it before enabling beta',
    ]);
    expect(r.scenario).toBeUndefined();
  });

  it("reports a planQuestion problem at the button it names, and gives the plans with each block's position", () => {
    const picky = limits("picky", 64, {
      planQuestion: (m) => ({ form: `${m.buttons?.length ?? 0} chips`, problems: [{ at: 1, message: "this button's value cannot be sent: use another" }] }),
    });
    const off = loadScenarioText(YAML, "t.yaml", { otherChannels: [picky] });
    expect(off.problems.map(show)).toEqual(['9:18 warning: block "ask": picky: this button\'s value cannot be sent: use another (before enabling picky)']);
    expect(off.channelPlans).toEqual([{ blockId: "ask", line: 4, col: 3, channels: [{ channel: "picky", enabled: false, form: "2 chips", refused: "this button's value cannot be sent: use another" }] }]);
    const on = loadScenarioText(YAML, "t.yaml", { channels: [picky] });
    expect(on.problems.map(show)).toEqual(['9:18 error: block "ask": picky: this button\'s value cannot be sent: use another']);
  });

  it("checks every translation: a label too long in one locale is reported with that locale", () => {
    const yaml = YAML.replace('"Absolutely wonderful"', "{ en: Great, uk: Надзвичайно чудово }");
    const r = loadScenarioText(yaml, "t.yaml", { otherChannels: [limits("alpha", 10)] });
    expect(r.problems.map(show)).toEqual(['8:18 warning: block "ask": label "Надзвичайно чудово" (uk) is 18 characters; alpha allows 10: shorten it before enabling alpha']);
  });
});

describe("the channels' capabilities", () => {
  it("are the limits each module gives, in the order of CHANNEL_MODULES, each with a question plan", () => {
    expect(CHANNEL_LIMITS).toEqual(CHANNEL_MODULES.map((m) => m.limits));
    CHANNEL_LIMITS.forEach((l, i) => expect(l).toBe(CHANNEL_MODULES[i]?.limits));
    expect(CHANNEL_LIMITS.map((l) => l.channel)).toEqual(CHANNEL_MODULES.map((m) => m.name));
    for (const l of CHANNEL_LIMITS) expect(typeof l.planQuestion, l.channel).toBe("function");
  });

  const question = (labels: string[], text = "Rate us"): QuestionMessage => {
    const buttons = labels.map((label, index) => ({ label, value: index, index }));
    return { text, promptId: "p1", buttons, rows: [buttons] };
  };

  it("Telegram measures callback_data with the longest prompt id and group member it may carry", () => {
    expect(planTelegramQuestion(question(["1", "2"])).form).toBe("inline keyboard, 2 buttons in 1 row (callback_data ≤ 29 of 64 bytes)");
    const hundred = question(Array.from({ length: 100 }, (_, i) => String(i)));
    expect(planTelegramQuestion(hundred).form).toMatch(/callback_data ≤ 30 of 64 bytes/);
  });

  it("WhatsApp Cloud sends up to 3 short titles as reply buttons, anything else as a list, saying why", () => {
    expect(planWhatsappCloudQuestion(question(["Yes", "No"])).form).toBe("reply buttons, 2");
    expect(planWhatsappCloudQuestion(question(["Yes", "No", "Not sure", "Later"])).form).toBe("list, 4 rows (more than 3 buttons)");
    expect(planWhatsappCloudQuestion(question(["Yes", "Absolutely, without doubt"])).form).toBe("list, 2 rows (a label over 20 characters)");
  });

  it("Teams refuses a question whose card would pass its message size, at the text", () => {
    expect(planTeamsQuestion(question(["1", "2", "3", "4", "5", "6"])).form).toBe("Adaptive Card, 6 buttons in 2 rows of up to 5");
    const big = planTeamsQuestion(question(["1", "2"], "€".repeat(9000)));
    expect(big.problems).toEqual([{ at: "text", message: "the question's card would be about 30 KB; Teams refuses messages above 28 KB: shorten the text or the labels" }]);
  });
});
