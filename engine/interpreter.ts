/**
 * The pure step: `(scenario, state, event) → { state, effects }`. No I/O, no clock:
 * time comes in on the event, effects go out as data for the runtime to apply.
 *
 * @example
 * const { state, effects } = step(scenario, null, { kind: "start", ... , at: Date.now() });
 */
import { isQuestion, type KeyboardBlock, type NextSpec, type ScenarioBlock, type SetBlock, type WaitBlock } from "./schema/scenario-schema.ts";
import { durationMs, type LoadedScenario } from "./scenario.ts";
import { evaluateSet } from "./set-block.ts";
import { startsOnMessage } from "./start-on.ts";
import { dimensionValues } from "./survey-dimensions.ts";
import { localize, normalizeAnswer, substitute } from "./text.ts";
import {
  assertNever,
  type ActionResultEvent,
  type CloseReason,
  type ConversationState,
  type Effect,
  type InboundEvent,
  type InterruptedDialogue,
  type OutButton,
  type OutMessage,
  type PendingPrompt,
  type TrackEvent,
  type VarValue,
} from "./types.ts";

export interface StepResult {
  /** The state to save; `null` only when there was none and nothing started. */
  state: ConversationState | null;
  /** In order. When the step stops at an action block, its `runAction` is the last effect. */
  effects: Effect[];
}

/** Blocks visited in one step at most; the loader rejects loops with no waiting block, this is the backstop. */
export const MAX_BLOCKS_PER_STEP = 200;
/** Re-prompts before an invalid answer follows `invalid.next`, when the scenario does not say. */
export const DEFAULT_MAX_ATTEMPTS = 3;
const DEFAULT_INVALID_TEXT = "Please choose one of the options below.";
const DEFAULT_INVALID_TEXT_FREE = "That answer does not fit; please try again.";
const DEFAULT_COLUMNS = 5;

type AnyEvent = (InboundEvent & { at: number }) | ActionResultEvent;

/** Runs one event through the scenario. */
export function step(scenario: LoadedScenario, state: ConversationState | null, event: AnyEvent): StepResult {
  const effects: Effect[] = [];
  if (event.kind === "action_result") {
    if (!state || state.pendingAction !== event.blockId) return { state, effects };
    const block = scenario.def.blocks[event.blockId];
    let s: ConversationState = { ...state, pendingAction: null, updatedAt: event.at };
    if (event.vars !== undefined && Object.keys(event.vars).length > 0) s = { ...s, vars: withVars(s.vars, event.vars) };
    const target =
      block && block.type === "action" ? (event.ok ? block.next : (block.on_error ?? block.next)) : undefined;
    s = goTo(scenario, s, target, effects, event.at);
    return { state: s, effects };
  }

  if (event.kind === "start") return { state: startDialogue(scenario, state, event, effects), effects };

  if (!state || state.ended) {
    if (event.kind === "text" && event.startIfIdle && startsOnMessage(scenario.def.start_on, event)) {
      return { state: startDialogue(scenario, state, event, effects), effects };
    }
    effects.push({ type: "ignored", reason: "no_dialogue", promptId: event.promptId });
    return { state, effects };
  }

  let s = state;
  // A trigger's expiry: the waiting question is declined as a timeout and the dialogue ends there,
  // without the timeout's own `next` (nobody is waiting for a goodbye a day later). The dialogue
  // the trigger started only: once another replaced it, that one is not the expiring survey.
  if (event.kind === "timeout" && event.expire) {
    if (s.triggerId !== event.expire.triggerId) {
      effects.push({ type: "ignored", reason: "no_dialogue" });
      return { state: s, effects };
    }
    return { state: expireDialogue(scenario, s, effects, event.at), effects };
  }
  // A deadline that passed fires before anything else, even when the sweeper has not run yet.
  const due = s.prompt?.deadline !== undefined && event.at >= s.prompt.deadline;
  if (due || event.kind === "timeout") {
    if (!due || (event.kind === "timeout" && event.promptId !== undefined && event.promptId !== s.prompt?.id)) {
      return { state: s, effects }; // a timeout for a prompt already answered
    }
    // A late answer was meant for the question that timed out: never apply it to the next one.
    // (Reported first: a runAction, when there is one, must stay the last effect.)
    if (event.kind !== "timeout") effects.push({ type: "ignored", reason: "stale_prompt", promptId: s.prompt?.id });
    s = fireTimeout(scenario, s, effects, event.at);
    return { state: s, effects };
  }

  const prompt = s.prompt;
  if (!prompt) {
    effects.push({ type: "ignored", reason: "no_dialogue", promptId: event.promptId });
    return { state: s, effects };
  }
  const block = scenario.def.blocks[prompt.blockId];
  if (!block || (block.type !== "message_with_keyboard" && block.type !== "wait_for_response")) {
    // The block vanished under a live prompt (the runtime normally prevents this): end cleanly.
    return { state: endDialogue(s, effects, event.at), effects };
  }

  if (event.kind === "choice") {
    if (event.promptId !== prompt.id) {
      effects.push({ type: "ignored", reason: "stale_prompt", promptId: event.promptId });
      return { state: s, effects };
    }
    const button = event.buttonIndex === undefined ? undefined : buttonAt(scenario, block, s.locale, event.buttonIndex);
    if (!button) {
      effects.push({ type: "ignored", reason: "unknown_button", promptId: event.promptId });
      return { state: s, effects };
    }
    return { state: answer(scenario, s, block, button, effects, event.at), effects };
  }

  // kind === "text"
  const text = event.text ?? "";
  const buttons = buttonsOf(scenario, block, s.locale);
  const picked = matchTyped(buttons, text, block.type === "message_with_keyboard");
  if (picked) return { state: answer(scenario, s, block, picked, effects, event.at), effects };
  if (block.type === "wait_for_response" && fitsLength(block, text)) {
    return { state: answer(scenario, s, block, { label: text, value: text.trim(), index: -1 }, effects, event.at, event.cleaned === true), effects };
  }
  return { state: invalidAnswer(scenario, s, block, effects, event.at), effects };
}

function startDialogue(
  scenario: LoadedScenario,
  prev: ConversationState | null,
  event: InboundEvent & { at: number },
  effects: Effect[],
): ConversationState {
  if (prev?.prompt && !prev.ended) effects.push({ type: "close", promptId: prev.prompt.id, reason: "restart" });
  // The dialogue in progress ends here, interrupted: tracked with its own identity (the step's state is the next one's).
  if (prev && !prev.ended) effects.push({ type: "track", event: { type: "dialogue_ended", reason: "restart", interrupted: interruptedDialogue(prev) } });
  // The start's variables seed the dialogue (the runtime has checked them: engine/start-variables.ts).
  // Nothing of an earlier dialogue's context carries over: each start says its own.
  const given = event.kind === "start" ? event.variables : undefined;
  const context = given !== undefined && Object.keys(given).length > 0 ? given : undefined;
  const s: ConversationState = {
    // Carried along (the runtime sets it). Present even when undefined: a key added to a spread copy
    // later would give every conversation's state its own V8 hidden class (slow, ~140 B each).
    ref: prev?.ref,
    scenarioId: scenario.id,
    scenarioVersion: scenario.version,
    dialogue: (prev?.dialogue ?? 0) + 1,
    seq: prev?.seq ?? 0,
    prompt: null,
    pendingAction: null,
    vars: context ? { ...context } : {},
    locale: event.locale ?? prev?.locale ?? scenario.locale,
    ended: false,
    startedAt: event.at,
    startKey: event.dedupeKey,
    updatedAt: event.at,
    // Always present (maybe undefined), for one hidden class: see `ref`.
    context,
    triggerId: event.kind === "start" ? event.proactive?.triggerId : undefined,
  };
  effects.push({ type: "track", event: { type: "dialogue_started" } });
  return run(scenario, s, scenario.def.start, effects, event.at);
}

/** The identity and variables of a dialogue a start interrupts (TrackEvent.interrupted); absent fields left out. */
function interruptedDialogue(prev: ConversationState): InterruptedDialogue {
  const d: InterruptedDialogue = { scenarioId: prev.scenarioId, scenarioVersion: prev.scenarioVersion, dialogue: prev.dialogue, startedAt: prev.startedAt, vars: prev.vars };
  if (prev.startKey !== undefined) d.startKey = prev.startKey;
  if (prev.context !== undefined) d.context = prev.context;
  if (prev.triggerId !== undefined) d.triggerId = prev.triggerId;
  if (prev.cleanedVars !== undefined) d.cleanedVars = prev.cleanedVars;
  return d;
}

/** `vars` with `saved` set over them; own keys only, so a variable named "__proto__" stays a variable. */
function withVars(vars: Readonly<Record<string, VarValue>>, saved: Readonly<Record<string, VarValue>>): Record<string, VarValue> {
  const out = { ...vars };
  for (const [name, value] of Object.entries(saved)) Object.defineProperty(out, name, { value, enumerable: true, writable: true, configurable: true });
  return out;
}

/** Follows `next` (resolving rules against the saved variables); no target ends the dialogue. */
function goTo(
  scenario: LoadedScenario,
  s: ConversationState,
  next: NextSpec | undefined,
  effects: Effect[],
  at: number,
): ConversationState {
  const target = resolveNext(next, s.vars);
  if (target === undefined) return endDialogue(s, effects, at);
  return run(scenario, s, target, effects, at);
}

/** Picks the target of `next`: an id, or the first matching rule. */
export function resolveNext(next: NextSpec | undefined, vars: Readonly<Record<string, VarValue>>): string | undefined {
  if (next === undefined || typeof next === "string") return next;
  for (const rule of next) {
    if ("default" in rule) return rule.default;
    // Own keys only: a rule on "constructor" must not see Object.prototype's.
    const v = Object.hasOwn(vars, rule.var) ? vars[rule.var] : undefined;
    if (v === undefined) continue;
    if (rule.equals !== undefined && sameValue(v, rule.equals)) return rule.goto;
    if (rule.lte !== undefined && toNumber(v) <= rule.lte) return rule.goto;
    if (rule.gte !== undefined && toNumber(v) >= rule.gte) return rule.goto;
    if (rule.in !== undefined && rule.in.some((x) => sameValue(v, x))) return rule.goto;
  }
  return undefined;
}

function sameValue(a: VarValue, b: VarValue): boolean {
  return a === b || String(a) === String(b);
}

function toNumber(v: VarValue): number {
  const n = typeof v === "number" ? v : Number(v);
  return Number.isNaN(n) ? Number.NaN : n;
}

function run(scenario: LoadedScenario, state: ConversationState, from: string, effects: Effect[], at: number): ConversationState {
  let s = state;
  let id: string | undefined = from;
  for (let visited = 0; id !== undefined; visited++) {
    const block: ScenarioBlock | undefined = scenario.def.blocks[id];
    if (!block || visited >= MAX_BLOCKS_PER_STEP) return endDialogue(s, effects, at);
    switch (block.type) {
      case "message":
        effects.push({ type: "send", message: { text: render(scenario, s, block.text) } });
        id = resolveNext(block.next, s.vars);
        break;
      case "message_with_keyboard":
      case "wait_for_response":
        return offer(scenario, s, id, block, effects, at, undefined);
      case "action":
        effects.push({ type: "runAction", blockId: id, name: block.action, config: block.config ?? {} });
        return { ...s, pendingAction: id, updatedAt: at };
      case "set":
        // Never waits: its `next` (rules included) reads the values it just assigned.
        s = applySet(s, id, block, effects, at);
        id = resolveNext(block.next, s.vars);
        break;
      case "end":
        if (block.text !== undefined) effects.push({ type: "send", message: { text: render(scenario, s, block.text) } });
        return endDialogue(s, effects, at);
      case "goto_scenario": {
        // Ends here; the runtime starts the next scenario (it knows the others, this pure step does not).
        const ended = endDialogue(s, effects, at);
        effects.push({ type: "handover", blockId: id, scenarioId: block.scenario, variables: handoverVariables(block.variables, s.vars) });
        return ended;
      }
      default:
        return assertNever(block, "block type");
    }
  }
  return endDialogue(s, effects, at);
}

/** A set block's assignments applied to the dialogue's variables; each one that failed is a warning effect. */
function applySet(s: ConversationState, blockId: string, block: SetBlock, effects: Effect[], at: number): ConversationState {
  const { vars, touched, warnings } = evaluateSet(block.set, s.vars, at);
  for (const w of warnings) {
    effects.push({ type: "warning", blockId, message: `block "${blockId}": set ${w.variable}: ${w.message}; ${w.variable} is left unset` });
  }
  const next: ConversationState = { ...s, vars, updatedAt: at };
  // A variable the block replaced no longer holds the text that was cleaned on the way in.
  if (s.cleanedVars) next.cleanedVars = s.cleanedVars.filter((n) => !touched.includes(n));
  return next;
}

const WHOLE_VARIABLE = /^\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}$/;

/**
 * A goto_scenario's `variables` with this dialogue's filled in. A value that is one `{{name}}` alone
 * passes the variable as it is (a number stays a number), and nothing when this dialogue has no
 * such variable, so the next scenario sees it unset rather than empty; other strings are templates.
 */
function handoverVariables(spec: Readonly<Record<string, VarValue>> | undefined, vars: Readonly<Record<string, VarValue>>): Record<string, VarValue> {
  const out: Record<string, VarValue> = {};
  for (const [name, value] of Object.entries(spec ?? {})) {
    if (typeof value !== "string") {
      out[name] = value;
      continue;
    }
    const whole = WHOLE_VARIABLE.exec(value)?.[1];
    if (whole === undefined) out[name] = substitute(value, vars);
    else if (Object.hasOwn(vars, whole)) out[name] = vars[whole] as VarValue;
  }
  return out;
}

function render(scenario: LoadedScenario, s: ConversationState, text: Parameters<typeof localize>[0]): string {
  return substitute(localize(text, s.locale, scenario.locale), s.vars);
}

function offer(
  scenario: LoadedScenario,
  s: ConversationState,
  blockId: string,
  block: KeyboardBlock | WaitBlock,
  effects: Effect[],
  at: number,
  reprompt: { text: string; attempts: number } | undefined,
): ConversationState {
  const seq = s.seq + 1;
  const promptId = `p${seq}`;
  const buttons = buttonsOf(scenario, block, s.locale);
  const timeout = block.timeout ?? scenario.def.defaults?.timeout;
  const text = reprompt?.text ?? render(scenario, s, block.text);
  const message = questionMessage(block, text, promptId, buttons);
  effects.push({ type: "send", message });
  if (!reprompt) {
    const event: TrackEvent = { type: "prompt_offered", blockId, saveTo: block.save_to, scale: block.type === "message_with_keyboard" ? scaleOf(buttons) : undefined };
    // The survey's dimensions are frozen here, at the offer: a later change of the variable does not move the survey.
    const dims = scenario.dimensions;
    const values = dims ? dimensionValues(dims, s.vars) : undefined;
    if (dims && values) {
      event.dimensions = values;
      event.rolledUp = dims.filter((d) => d.group && values[d.name] !== undefined).map((d) => d.name);
    }
    effects.push({ type: "track", event });
  }
  const prompt: PendingPrompt = { id: promptId, blockId, attempts: reprompt?.attempts ?? 0 };
  if (timeout) prompt.deadline = at + cachedDurationMs(timeout.after);
  return { ...s, seq, prompt, updatedAt: at };
}

const durations = new Map<number | string, number>();

/** durationMs, parsed once per distinct value: scenarios hold few, and every prompt asks. */
function cachedDurationMs(value: number | string): number {
  let ms = durations.get(value);
  if (ms === undefined) durations.set(value, (ms = durationMs(value)));
  return ms;
}

/** The prompt's buttons in order: the keyboard's, then the skip button when there is one. */
export function buttonsOf(scenario: Pick<LoadedScenario, "locale">, block: KeyboardBlock | WaitBlock, locale: string): OutButton[] {
  const out: OutButton[] = [];
  if (block.type === "message_with_keyboard") {
    for (const b of block.buttons) out.push(keyboardButton(scenario, b, locale, out.length));
  }
  if (block.skip) out.push(skipButton(scenario, block.skip, locale, out.length));
  return out;
}

/**
 * The message `offer` sends for a question in `locale`, with `{{variables}}` left as written and
 * prompt id `promptId`: what the loader checks each channel's rendering against.
 */
export function previewQuestion(block: KeyboardBlock | WaitBlock, locale: string, defaultLocale: string, promptId: string): OutMessage & { promptId: string } {
  return questionMessage(block, localize(block.text, locale, defaultLocale), promptId, buttonsOf({ locale: defaultLocale }, block, locale));
}

/** A question's message: its text, its buttons in rows, and whether it takes typed text. */
function questionMessage(block: KeyboardBlock | WaitBlock, text: string, promptId: string, buttons: OutButton[]): OutMessage & { promptId: string } {
  // Optional keys assigned rather than spread in (same keys, same order): this runs on every prompt.
  const message: OutMessage & { promptId: string } = { text, promptId };
  if (buttons.length > 0) {
    message.buttons = buttons;
    message.rows = layoutRows(buttons, block.type === "message_with_keyboard" ? block.columns : undefined);
  }
  if (block.type === "wait_for_response") message.expectsText = true;
  return message;
}

/** `buttonsOf(...)[index]` without building the other buttons: a tap looks up one. */
function buttonAt(scenario: LoadedScenario, block: KeyboardBlock | WaitBlock, locale: string, index: number): OutButton | undefined {
  if (!Number.isInteger(index) || index < 0) return undefined;
  const count = block.type === "message_with_keyboard" ? block.buttons.length : 0;
  if (index < count) return keyboardButton(scenario, (block as KeyboardBlock).buttons[index] as KeyboardBlock["buttons"][number], locale, index);
  return index === count && block.skip ? skipButton(scenario, block.skip, locale, index) : undefined;
}

function keyboardButton(scenario: Pick<LoadedScenario, "locale">, b: KeyboardBlock["buttons"][number], locale: string, index: number): OutButton {
  const label = localize(b.label, locale, scenario.locale);
  return { label, value: b.value ?? (typeof b.label === "number" ? b.label : label), index };
}

function skipButton(scenario: Pick<LoadedScenario, "locale">, skip: NonNullable<KeyboardBlock["skip"]>, locale: string, index: number): OutButton {
  return { label: localize(skip.label, locale, scenario.locale), value: "", index, skip: true };
}

function layoutRows(buttons: OutButton[], columns: number | undefined): OutButton[][] {
  const width = columns ?? DEFAULT_COLUMNS;
  const rows: OutButton[][] = [];
  let row: OutButton[] = [];
  for (const b of buttons) {
    if (b.skip) continue;
    if (row.length === width) {
      rows.push(row);
      row = [];
    }
    row.push(b);
  }
  if (row.length > 0) rows.push(row);
  const skip = buttons.find((b) => b.skip);
  if (skip) rows.push([skip]);
  return rows;
}

function scaleOf(buttons: OutButton[]): { min: number; max: number } | undefined {
  let min = Infinity;
  let max = -Infinity;
  for (const b of buttons) {
    if (b.skip) continue;
    if (typeof b.value !== "number") return undefined;
    if (b.value < min) min = b.value;
    if (b.value > max) max = b.value;
  }
  return min <= max ? { min, max } : undefined;
}

/**
 * A typed answer picks a button by its exact label, or (keyboards) by its position: "2" → the second
 * button. Not by position when some label is a number: on a 0–10 keyboard "11" is no answer, not "10".
 */
function matchTyped(buttons: OutButton[], text: string, byPosition: boolean): OutButton | undefined {
  const typed = normalizeAnswer(text);
  if (typed === "") return undefined;
  for (const b of buttons) if (normalizeAnswer(b.label) === typed) return b;
  if (byPosition && /^[0-9]{1,3}$/.test(typed) && !buttons.some((b) => /^[0-9]+$/.test(b.label.trim()))) {
    const n = Number(typed);
    const real = buttons.filter((b) => !b.skip);
    if (n >= 1 && n <= real.length) return real[n - 1];
  }
  return undefined;
}

function fitsLength(block: WaitBlock, text: string): boolean {
  let len = 0; // code points, as [...text].length counts them, without building the array
  for (const _ of text.trim()) len++;
  return len >= Math.max(1, block.min_length ?? 1) && len <= (block.max_length ?? 4096);
}

function answer(
  scenario: LoadedScenario,
  s: ConversationState,
  block: KeyboardBlock | WaitBlock,
  button: OutButton,
  effects: Effect[],
  at: number,
  cleaned = false,
): ConversationState {
  const prompt = s.prompt as NonNullable<ConversationState["prompt"]>;
  if (button.skip) {
    effects.push({ type: "close", promptId: prompt.id, reason: "skipped", answer: { label: button.label, value: button.value } });
    effects.push({ type: "track", event: { type: "prompt_declined", blockId: prompt.blockId, saveTo: block.save_to, reason: "skipped" } });
    return goTo(scenario, { ...s, prompt: null, updatedAt: at }, block.skip?.next ?? block.next, effects, at);
  }
  const vars = block.save_to ? withVar(s.vars, block.save_to, button.value) : s.vars;
  effects.push({ type: "close", promptId: prompt.id, reason: "answered", answer: { label: button.label, value: button.value } });
  const answered: TrackEvent = { type: "prompt_answered", blockId: prompt.blockId, saveTo: block.save_to, value: button.value };
  if (cleaned) answered.cleaned = true;
  effects.push({ type: "track", event: answered });
  const next: ConversationState = { ...s, vars, prompt: null, updatedAt: at };
  // Only dialogues that met unstorable text carry the list (no new key on every state).
  if (block.save_to && (cleaned || s.cleanedVars)) next.cleanedVars = withCleaned(s.cleanedVars, block.save_to, cleaned);
  return goTo(scenario, next, block.next, effects, at);
}

/** The cleaned-variable list after `name` was saved, cleaned or not. */
function withCleaned(list: readonly string[] | undefined, name: string, cleaned: boolean): string[] {
  const rest = (list ?? []).filter((n) => n !== name);
  return cleaned ? [...rest, name] : rest;
}

/**
 * `{ ...vars, [name]: value }` built key by key: the spread form gives every conversation's vars
 * their own V8 hidden class (about 0.5 µs and 140 B each). `__proto__` keeps the spread form,
 * which is what makes it an own key rather than the prototype.
 */
function withVar(vars: Readonly<Record<string, VarValue>>, name: string, value: VarValue): Record<string, VarValue> {
  if (name === "__proto__" || Object.hasOwn(vars, "__proto__")) return { ...vars, [name]: value };
  const out: Record<string, VarValue> = {};
  for (const k of Object.keys(vars)) out[k] = vars[k] as VarValue;
  out[name] = value;
  return out;
}

function invalidAnswer(
  scenario: LoadedScenario,
  s: ConversationState,
  block: KeyboardBlock | WaitBlock,
  effects: Effect[],
  at: number,
): ConversationState {
  const prompt = s.prompt as NonNullable<ConversationState["prompt"]>;
  const invalid = block.invalid ?? scenario.def.defaults?.invalid;
  const max = invalid?.max_attempts ?? DEFAULT_MAX_ATTEMPTS;
  if (prompt.attempts < max) {
    const fallback = block.type === "message_with_keyboard" ? DEFAULT_INVALID_TEXT : DEFAULT_INVALID_TEXT_FREE;
    const text = invalid?.text !== undefined ? render(scenario, s, invalid.text) : fallback;
    effects.push({ type: "close", promptId: prompt.id, reason: "reprompt" });
    return offer(scenario, s, prompt.blockId, block, effects, at, { text, attempts: prompt.attempts + 1 });
  }
  const fallback = block.invalid?.default;
  if (fallback !== undefined) return answerByDefault(scenario, s, block, fallback, effects, at);
  return decline(scenario, s, block, "invalid", invalid?.next, effects, at);
}

/**
 * The re-prompts ran out and the question has an `invalid.default`: it is recorded as the
 * answer (save_to, a prompt_answered track event marked `defaulted`), then `invalid.next` is
 * followed, or the question's own `next` when invalid has none (the question has its answer).
 * The keyboard closes as `invalid`, without an answer label: the user did not pick it.
 */
function answerByDefault(
  scenario: LoadedScenario,
  s: ConversationState,
  block: KeyboardBlock | WaitBlock,
  fallback: string | number,
  effects: Effect[],
  at: number,
): ConversationState {
  const prompt = s.prompt as NonNullable<ConversationState["prompt"]>;
  const value = block.type === "message_with_keyboard" ? (defaultButton(scenario, block, s.locale, fallback)?.value ?? fallback) : fallback;
  effects.push({ type: "close", promptId: prompt.id, reason: "invalid" });
  effects.push({ type: "track", event: { type: "prompt_answered", blockId: prompt.blockId, saveTo: block.save_to, value, defaulted: true } });
  const next: ConversationState = { ...s, vars: block.save_to ? withVar(s.vars, block.save_to, value) : s.vars, prompt: null, updatedAt: at };
  if (block.save_to && s.cleanedVars) next.cleanedVars = withCleaned(s.cleanedVars, block.save_to, false);
  return goTo(scenario, next, block.invalid?.next ?? block.next, effects, at);
}

/**
 * The button whose value (in the scenario's default locale, as the loader checked it) is `fallback`,
 * in the user's locale: a button whose value is its translated label records that translation.
 */
function defaultButton(scenario: LoadedScenario, block: KeyboardBlock, locale: string, fallback: string | number): OutButton | undefined {
  const index = block.buttons.findIndex((b, i) => String(keyboardButton(scenario, b, scenario.locale, i).value) === String(fallback));
  return index < 0 ? undefined : buttonAt(scenario, block, locale, index);
}

function fireTimeout(scenario: LoadedScenario, s: ConversationState, effects: Effect[], at: number): ConversationState {
  const prompt = s.prompt as NonNullable<ConversationState["prompt"]>;
  const block = scenario.def.blocks[prompt.blockId];
  if (!block || (block.type !== "message_with_keyboard" && block.type !== "wait_for_response")) return endDialogue(s, effects, at);
  const timeout = block.timeout ?? scenario.def.defaults?.timeout;
  return decline(scenario, s, block, "timeout", timeout?.next, effects, at);
}

function decline(
  scenario: LoadedScenario,
  s: ConversationState,
  block: KeyboardBlock | WaitBlock,
  reason: CloseReason,
  next: NextSpec | undefined,
  effects: Effect[],
  at: number,
): ConversationState {
  declinePrompt(s.prompt as NonNullable<ConversationState["prompt"]>, block, reason, effects);
  return goTo(scenario, { ...s, prompt: null, updatedAt: at }, next, effects, at);
}

function expireDialogue(scenario: LoadedScenario, s: ConversationState, effects: Effect[], at: number): ConversationState {
  const block = s.prompt ? scenario.def.blocks[s.prompt.blockId] : undefined;
  if (s.prompt && isQuestion(block)) declinePrompt(s.prompt, block, "timeout", effects);
  else if (s.prompt) effects.push({ type: "close", promptId: s.prompt.id, reason: "timeout" }); // its block is gone from the scenario
  return endDialogue(s, effects, at);
}

/** The two effects of a declined question: its buttons closed, and the decline tracked. */
function declinePrompt(prompt: NonNullable<ConversationState["prompt"]>, block: KeyboardBlock | WaitBlock, reason: CloseReason, effects: Effect[]): void {
  effects.push({ type: "close", promptId: prompt.id, reason });
  effects.push({ type: "track", event: { type: "prompt_declined", blockId: prompt.blockId, saveTo: block.save_to, reason } });
}

function endDialogue(s: ConversationState, effects: Effect[], at: number): ConversationState {
  if (s.ended) return s;
  effects.push({ type: "track", event: { type: "dialogue_ended" } });
  return { ...s, prompt: null, pendingAction: null, ended: true, updatedAt: at };
}
