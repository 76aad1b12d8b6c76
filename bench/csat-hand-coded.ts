/**
 * The CSAT survey of scenarios/csat.yaml written by hand as a plain TypeScript switch: the
 * baseline the engine is measured against. It keeps one small state object per conversation
 * in a Map and produces the same user-visible effects (messages, keyboards, closed prompts)
 * and the same queued survey as the engine, awaiting the same Delivery and SurveyQueue calls.
 *
 * Deliberately left out, because a hand-coded bot of this size would leave them out too:
 * dedupe, locks, scenario versions, timeouts, and any state store but the Map.
 *
 * If scenarios/csat.yaml changes, change this file the same way; the smoke test
 * (test/bench/engine-bench-smoke.test.ts) fails until both produce identical outputs.
 */
import type { Clock, Delivery } from "../engine/ports.ts";
import { surveyId } from "../engine/runtime.ts";
import type { ConversationRef, Effect, InboundEvent, OutButton, OutMessage } from "../engine/types.ts";
import type { SurveyEvent, SurveyQueue } from "../stats/events.ts";

const TEXTS = {
  en: {
    rating: "Please rate the quality of service from 1 (very dissatisfied) to 5 (very satisfied).",
    invalid: "Please tap a number from 1 to 5, or type it.",
    comment: "Thank you! Would you like to add a comment to your rating?",
    thanks: "Thank you for your feedback!",
    skip: "Skip",
    noComment: "No comment",
  },
  uk: {
    rating: "Будь ласка, оцініть якість обслуговування від 1 (дуже незадоволений) до 5 (дуже задоволений).",
    invalid: "Будь ласка, натисніть або введіть число від 1 до 5.",
    comment: "Дякуємо! Бажаєте додати коментар до оцінки?",
    thanks: "Дякуємо за ваш відгук!",
    skip: "Пропустити",
    noComment: "Без коментаря",
  },
} as const;
type Locale = keyof typeof TEXTS;

const MAX_INVALID_ATTEMPTS = 2;
const MAX_COMMENT_LENGTH = 2000;

interface HandState {
  step: "rating" | "comment" | "done";
  promptId: string;
  seq: number;
  dialogue: number;
  attempts: number;
  locale: Locale;
  startedAt: number;
  startKey: string;
  rating?: number;
  comment?: string;
}

export interface HandCodedOptions {
  delivery: Delivery;
  queue: SurveyQueue;
  /** Recorded in queued surveys, as the engine records the scenario's version. */
  scenarioVersion: string;
  /** Event time when the event carries none, as the engine's Runtime does. */
  clock: Clock;
}

/** One CSAT survey per conversation, hand-coded. `handle` returns the effects it delivered, as Runtime.handle does. */
export class HandCodedCsat {
  private readonly states = new Map<string, HandState>();

  constructor(private readonly o: HandCodedOptions) {}

  async handle(event: InboundEvent): Promise<{ effects: Effect[] }> {
    const at = event.at ?? this.o.clock.now();
    const ref: ConversationRef = { channel: event.channel, conversationId: event.conversationId, userId: event.userId };
    const key = `${event.channel}::${event.conversationId}`;
    const effects: Effect[] = [];
    let s = this.states.get(key);
    switch (event.kind) {
      case "start": {
        if (s && s.step !== "done") effects.push({ type: "close", promptId: s.promptId, reason: "restart" });
        const locale: Locale = event.locale?.startsWith("uk") ? "uk" : (s?.locale ?? "en");
        s = { step: "rating", promptId: "", seq: s?.seq ?? 0, dialogue: (s?.dialogue ?? 0) + 1, attempts: 0, locale, startedAt: at, startKey: event.dedupeKey };
        this.askRating(s, effects, TEXTS[locale].rating);
        break;
      }
      case "choice":
        if (!s || s.step === "done") effects.push({ type: "ignored", reason: "no_dialogue", promptId: event.promptId });
        else if (event.promptId !== s.promptId) effects.push({ type: "ignored", reason: "stale_prompt", promptId: event.promptId });
        else {
          const buttons = s.step === "rating" ? ratingButtons(s.locale) : commentButtons(s.locale);
          const button = event.buttonIndex === undefined ? undefined : buttons[event.buttonIndex];
          if (!button) effects.push({ type: "ignored", reason: "unknown_button", promptId: event.promptId });
          else await this.answer(ref, s, button, at, effects);
        }
        break;
      case "text": {
        if (!s || s.step === "done") {
          effects.push({ type: "ignored", reason: "no_dialogue" });
          break;
        }
        const typed = (event.text ?? "").trim().toLowerCase();
        if (s.step === "rating") {
          const buttons = ratingButtons(s.locale);
          const n = /^[0-9]{1,3}$/.test(typed) ? Number(typed) : 0;
          const button = buttons.find((b) => b.label.toLowerCase() === typed) ?? (n >= 1 && n <= 5 ? buttons[n - 1] : undefined);
          if (button) await this.answer(ref, s, button, at, effects);
          else if (s.attempts < MAX_INVALID_ATTEMPTS) {
            effects.push({ type: "close", promptId: s.promptId, reason: "reprompt" });
            s.attempts++;
            this.askRating(s, effects, TEXTS[s.locale].invalid);
          } else {
            effects.push({ type: "close", promptId: s.promptId, reason: "invalid" });
            await this.finish(ref, s, at, effects);
          }
        } else {
          const skip = commentButtons(s.locale)[0] as OutButton;
          const length = [...(event.text ?? "").trim()].length;
          if (typed === skip.label.toLowerCase()) await this.answer(ref, s, skip, at, effects);
          else if (length >= 1 && length <= MAX_COMMENT_LENGTH) {
            const comment = (event.text ?? "").trim();
            await this.answer(ref, s, { label: event.text ?? "", value: comment, index: -1 }, at, effects);
          } else {
            effects.push({ type: "close", promptId: s.promptId, reason: "reprompt" });
            this.ask(s, effects, { text: "That answer does not fit; please try again.", buttons: commentButtons(s.locale), expectsText: true });
          }
        }
        break;
      }
      case "timeout":
        break;
    }
    if (s) this.states.set(key, s);
    await this.o.delivery.deliver(ref, effects);
    return { effects };
  }

  private ask(s: HandState, effects: Effect[], m: { text: string; buttons: OutButton[]; expectsText?: boolean }): void {
    s.seq++;
    s.promptId = `p${s.seq}`;
    const real = m.buttons.filter((b) => !b.skip);
    const rows = real.length > 0 ? [real] : [];
    for (const b of m.buttons) if (b.skip) rows.push([b]);
    const message: OutMessage = { text: m.text, promptId: s.promptId, buttons: m.buttons, rows };
    if (m.expectsText) message.expectsText = true;
    effects.push({ type: "send", message });
  }

  private askRating(s: HandState, effects: Effect[], text: string): void {
    this.ask(s, effects, { text, buttons: ratingButtons(s.locale) });
  }

  private async answer(ref: ConversationRef, s: HandState, button: OutButton, at: number, effects: Effect[]): Promise<void> {
    effects.push({
      type: "close",
      promptId: s.promptId,
      reason: button.skip ? "skipped" : "answered",
      answer: { label: button.label, value: button.value },
    });
    if (s.step === "rating") {
      if (button.skip) {
        this.thank(s, effects);
        return;
      }
      s.rating = button.value as number;
      s.step = "comment";
      this.ask(s, effects, { text: TEXTS[s.locale].comment, buttons: commentButtons(s.locale), expectsText: true });
      return;
    }
    if (!button.skip) s.comment = String(button.value);
    await this.finish(ref, s, at, effects);
  }

  /** The `save` block: queue the survey when there is a rating or a comment, then thank. */
  private async finish(ref: ConversationRef, s: HandState, at: number, effects: Effect[]): Promise<void> {
    if (s.rating !== undefined || (s.comment !== undefined && s.comment !== "")) {
      const survey: SurveyEvent = {
        surveyId: surveyId(ref, s),
        scenarioId: "csat",
        scenarioVersion: this.o.scenarioVersion,
        channel: ref.channel,
        botId: "",
        conversationId: ref.conversationId,
        dialogueStartedAt: s.startedAt,
        at,
        kind: "completed",
        comment: s.comment ?? "",
      };
      if (s.rating !== undefined) survey.score = s.rating;
      await this.o.queue.add(survey);
    }
    this.thank(s, effects);
  }

  private thank(s: HandState, effects: Effect[]): void {
    effects.push({ type: "send", message: { text: TEXTS[s.locale].thanks } });
    s.step = "done";
  }
}

// Built per prompt, as the engine builds them, so neither side shares objects across messages.
function ratingButtons(locale: Locale): OutButton[] {
  return [
    { label: "1", value: 1, index: 0 },
    { label: "2", value: 2, index: 1 },
    { label: "3", value: 3, index: 2 },
    { label: "4", value: 4, index: 3 },
    { label: "5", value: 5, index: 4 },
    { label: TEXTS[locale].skip, value: "", index: 5, skip: true },
  ];
}

function commentButtons(locale: Locale): OutButton[] {
  return [{ label: TEXTS[locale].noComment, value: "", index: 0, skip: true }];
}
