/**
 * The scenario language's JSON Schema, the single source of truth for block types.
 * TypeScript types are derived from it with TypeBox's `Static`; `scenario.schema.json`
 * at the repository root is generated from it (`npm run schema`) and a test checks
 * that the checked-in file never drifts.
 */
import { Type, type Static, type TSchema } from "@sinclair/typebox";

export const ID_PATTERN = "^[A-Za-z_][A-Za-z0-9_.-]{0,63}$";

/**
 * What a scenario id looks like (`csat`, `csat.v2`): the schema's `id` pattern, which BOTFLOW_SCENARIO,
 * BOTFLOW_<CHANNEL>_SCENARIO, web chat start frames and Telegram deep links check against too,
 * so an id that loads is an id that can be asked for.
 */
export const SCENARIO_ID_PATTERN = ID_PATTERN;
const SCENARIO_ID = new RegExp(SCENARIO_ID_PATTERN);

/** Whether `s` is a scenario id by {@link SCENARIO_ID_PATTERN}. */
export function isScenarioId(s: string): boolean {
  return SCENARIO_ID.test(s);
}

/** How an id that fails {@link isScenarioId} is explained in messages. */
export const SCENARIO_ID_RULE = "letters, digits, _ . and -, starting with a letter or _, at most 64";

/** A locale code: en, uk, pt-BR. Scenario translations, the default locale and the CLI's --locale use it. */
export const LOCALE_PATTERN = "^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$";

const Id = Type.String({
  pattern: ID_PATTERN,
  description: "An identifier: letters, digits, '_', '.', '-'; starts with a letter or '_'.",
});

/** What a variable name looks like (`quality_answer`, `agent`): save_to, rules, start variables. */
export const VAR_NAME_PATTERN = "^[A-Za-z_][A-Za-z0-9_]{0,63}$";
const VAR_NAME = new RegExp(VAR_NAME_PATTERN);

/** Whether `name` is a variable name by {@link VAR_NAME_PATTERN} (the trigger API and the runtime check start variables with it). */
export function isVariableName(name: string): boolean {
  return VAR_NAME.test(name);
}

const VarName = Type.String({
  pattern: VAR_NAME_PATTERN,
  description: "A variable name such as quality_answer.",
});

/** Text as a plain string, or a map locale → string (the scenario's default locale must be present). */
export const LocalizedText = Type.Union(
  [
    Type.String({ minLength: 1, maxLength: 4096 }),
    // additionalProperties: a key that is no locale code (`English:`) is an error, not silently ignored.
    Type.Record(Type.String({ pattern: LOCALE_PATTERN }), Type.String({ minLength: 1, maxLength: 4096 }), {
      minProperties: 1,
      additionalProperties: false,
    }),
  ],
  { description: "Text, or a map from locale (en, uk, pt-BR) to text. {{variable}} is replaced by a saved variable." },
);

const Scalar = Type.Union([Type.String({ maxLength: 256 }), Type.Number()]);

const Rule = Type.Union(
  [
    Type.Object(
      {
        var: VarName,
        equals: Type.Optional(Scalar),
        lte: Type.Optional(Type.Number()),
        gte: Type.Optional(Type.Number()),
        in: Type.Optional(Type.Array(Scalar, { minItems: 1 })),
        goto: Id,
      },
      { additionalProperties: false, description: "Go to `goto` when the variable matches exactly one operator." },
    ),
    Type.Object({ default: Id }, { additionalProperties: false, description: "Go here when no rule above matched." }),
  ],
  { description: "A branching rule" },
);

/** `next`: a block id, or ordered rules on saved variables evaluated top to bottom. */
export const Next = Type.Union([Id, Type.Array(Rule, { minItems: 1 })], {
  description: "The next block: an id, or a list of rules ({var, equals|lte|gte|in, goto} … {default}).",
});

const Duration = Type.Union([Type.Integer({ minimum: 1 }), Type.String({ pattern: "^[0-9]+(ms|s|m|h|d)$" })], {
  description: "Seconds as a number, or a string such as 90s, 10m, 24h.",
});

const invalidFields = {
  text: Type.Optional(LocalizedText),
  max_attempts: Type.Optional(Type.Integer({ minimum: 1, maximum: 20 })),
  next: Type.Optional(Next),
};

/** `defaults.invalid`: no `default` value there, since a recorded value belongs to one question's buttons. */
const Invalid = Type.Object(invalidFields, {
  additionalProperties: false,
  description: "What happens when the answer is not valid: re-prompt with `text`, at most `max_attempts` times, then go to `next`.",
});

const QuestionInvalid = Type.Object(
  {
    ...invalidFields,
    default: Type.Optional(
      Type.Union([Type.String({ maxLength: 256 }), Type.Number()], {
        description: "Recorded into save_to as the answer when the re-prompts run out (one of the keyboard's values); then `next` is followed.",
      }),
    ),
  },
  {
    additionalProperties: false,
    description:
      "What happens when the answer is not valid: re-prompt with `text`, at most `max_attempts` times, then record `default` (if given) and go to `next`.",
  },
);

const Skip = Type.Object(
  { label: LocalizedText, next: Type.Optional(Next) },
  { additionalProperties: false, description: "A button that declines the question; the survey is recorded as declined." },
);

const Timeout = Type.Object(
  { after: Duration, next: Type.Optional(Next) },
  { additionalProperties: false, description: "No answer within `after`: the question is declined and the dialogue goes to `next`." },
);

const Button = Type.Object(
  {
    label: Type.Union([Type.String({ minLength: 1, maxLength: 256 }), Type.Number(), LocalizedText]),
    value: Type.Optional(Scalar),
  },
  { additionalProperties: false, description: "A button: the label shown and the value recorded (a number for ratings; defaults to the label)." },
);

const common = {
  next: Type.Optional(Next),
  description: Type.Optional(Type.String()),
};

export const MessageBlock = Type.Object(
  { type: Type.Literal("message"), text: LocalizedText, ...common },
  { additionalProperties: false },
);

export const KeyboardBlock = Type.Object(
  {
    type: Type.Literal("message_with_keyboard"),
    text: LocalizedText,
    buttons: Type.Array(Button, { minItems: 1, maxItems: 100 }),
    save_to: Type.Optional(VarName),
    columns: Type.Optional(Type.Integer({ minimum: 1, maximum: 10, description: "Buttons per row (default: all in one row up to 5)." })),
    invalid: Type.Optional(QuestionInvalid),
    skip: Type.Optional(Skip),
    timeout: Type.Optional(Timeout),
    ...common,
  },
  { additionalProperties: false },
);

export const WaitBlock = Type.Object(
  {
    type: Type.Literal("wait_for_response"),
    text: LocalizedText,
    save_to: Type.Optional(VarName),
    min_length: Type.Optional(Type.Integer({ minimum: 0 })),
    // Up to 64 K characters for long comments; when unset, 4096 (the interpreter's default).
    max_length: Type.Optional(Type.Integer({ minimum: 1, maximum: 65_536 })),
    invalid: Type.Optional(QuestionInvalid),
    skip: Type.Optional(Skip),
    timeout: Type.Optional(Timeout),
    ...common,
  },
  { additionalProperties: false },
);

export const ActionBlock = Type.Object(
  {
    type: Type.Literal("action"),
    action: Type.String({ pattern: "^[a-z][a-z0-9_]*$", description: "A registered action, e.g. statistic__set." }),
    config: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
    on_error: Type.Optional(Next),
    ...common,
  },
  { additionalProperties: false },
);

/** An operand of `add` / `concat`: a number, or text where `{{variable}}` is replaced. */
const Operand = Type.Union([Type.Number(), Type.String({ maxLength: 4096 })]);

/** The typed operations of a set block (engine/set-block.ts evaluates them; nothing is evaluated as code). */
export const SET_OPERATIONS = ["add", "concat", "now"] as const;

const SetOperation = Type.Object(
  {
    add: Type.Optional(Type.Array(Operand, { minItems: 1, maxItems: 20, description: "The sum of numbers: literals or {{variables}} holding numbers." })),
    concat: Type.Optional(Type.Array(Operand, { minItems: 1, maxItems: 20, description: "The items joined into one text, {{variables}} replaced." })),
    now: Type.Optional(
      Type.Union([Type.Literal(true), Type.Literal("ms"), Type.Literal("iso")], {
        description: "The time of the step: true or ms for epoch milliseconds (a number), iso for an ISO 8601 UTC text.",
      }),
    ),
  },
  { additionalProperties: false, description: "One operation: add, concat or now." },
);

const SetValue = Type.Union([Type.String({ maxLength: 4096 }), Type.Number(), SetOperation], {
  description: "A number, a text ({{variable}} replaced; one {{variable}} alone copies it as it is), or one operation: { add: [...] }, { concat: [...] }, { now: true }.",
});

export const SetBlock = Type.Object(
  {
    type: Type.Literal("set"),
    set: Type.Record(VarName, SetValue, {
      minProperties: 1,
      maxProperties: 50,
      // A key that is no variable name (`first-name`) is an error, not silently ignored.
      additionalProperties: false,
      description: "Variables to assign, in the order written (each sees the ones before it): name: value.",
    }),
    ...common,
  },
  { additionalProperties: false },
);

export const EndBlock = Type.Object(
  { type: Type.Literal("end"), text: Type.Optional(LocalizedText), description: Type.Optional(Type.String()) },
  { additionalProperties: false },
);

export const GotoScenarioBlock = Type.Object(
  {
    type: Type.Literal("goto_scenario"),
    scenario: Type.String({ pattern: SCENARIO_ID_PATTERN, description: "The scenario that takes over: it starts in this conversation now, and this dialogue ends." }),
    variables: Type.Optional(
      Type.Record(VarName, Type.Union([Type.String(), Type.Number()]), {
        description:
          "Start variables of the next scenario. agent: \"{{agent}}\" passes this dialogue's agent as it is (left out when it has none); other strings are templates.",
      }),
    ),
    description: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
);

export const BLOCK_SCHEMAS = {
  message: MessageBlock,
  message_with_keyboard: KeyboardBlock,
  wait_for_response: WaitBlock,
  action: ActionBlock,
  set: SetBlock,
  end: EndBlock,
  goto_scenario: GotoScenarioBlock,
} as const satisfies Record<string, TSchema>;

export type BlockType = keyof typeof BLOCK_SCHEMAS;

export const Block = Type.Union(Object.values(BLOCK_SCHEMAS), {
  description: "A block; `type` picks its kind.",
});

const Period = Type.Union([Type.Integer({ minimum: 0 }), Type.String({ pattern: "^[0-9]+(ms|s|m|h|d)$" })], {
  description: "Seconds as a number, or a string such as 12h or 7d; 0 turns the rule off.",
});
const LocalTime = Type.String({ pattern: "^([01][0-9]|2[0-3]):[0-5][0-9]$", description: "A local time, HH:MM." });

/** The trigger API's survey rules for this scenario; a call's `policy` overrides them field by field (engine/survey-rules.ts). */
const SurveyRules = Type.Object(
  {
    cooldown: Type.Optional(Period),
    sample: Type.Optional(Type.Number({ minimum: 0, maximum: 1, description: "Share of triggers sent, 0 to 1 (0.3 is 30 %)." })),
    seed: Type.Optional(Type.String({ maxLength: 100, description: "Varies which triggers the sample picks." })),
    expire_after: Type.Optional(Period),
    quiet_hours: Type.Optional(
      Type.Union([
        Type.Object({ from: LocalTime, to: LocalTime, timezone: Type.Optional(Type.String({ description: "IANA time zone (default UTC)." })) }, { additionalProperties: false }),
        Type.Null(),
      ]),
    ),
    timezone: Type.Optional(Type.String({ description: "The recipients' IANA time zone quiet hours are read in." })),
  },
  { additionalProperties: false, description: "Defaults of the trigger API's survey rules: cooldown, sample, expire_after, quiet_hours." },
);

/** A survey dimension: a variable whose value is frozen into the survey when its rating is offered (engine/survey-dimensions.ts). */
const Dimension = Type.Union([
  VarName,
  Type.Object(
    {
      name: VarName,
      group: Type.Optional(Type.Boolean({ description: "Rolled up, so figures group by it fast (default true); false for many distinct values such as a ticket id, kept on the survey and searchable." })),
      list: Type.Optional(Type.Boolean({ description: "The value is a comma-separated list (tags): the survey counts once under each item." })),
    },
    { additionalProperties: false },
  ),
]);

export const ScenarioSchema = Type.Object(
  {
    id: Id,
    name: Type.Optional(Type.String()),
    version: Type.Optional(Type.Union([Type.String(), Type.Integer()])),
    locale: Type.Optional(Type.String({ pattern: LOCALE_PATTERN, description: "Default locale (en)." })),
    start: Id,
    on_update: Type.Optional(
      Type.Union([Type.Literal("finish"), Type.Literal("restart")], {
        description: "When the scenario changes under a conversation in progress: finish on the old version (default) or restart.",
      }),
    ),
    start_on: Type.Optional(
      Type.Union([Type.Literal("any"), Type.Literal("text"), Type.Literal("never")], {
        description:
          "Which message, from someone with no dialogue in progress, starts this scenario where writing to the bot starts one (WhatsApp, Teams): text = typed text only (default); any = an image, location, contact card or another template's button too; never = none, for trigger-only scenarios (the trigger API, a start command and goto_scenario still start it).",
      }),
    ),
    defaults: Type.Optional(
      Type.Object(
        {
          invalid: Type.Optional(Invalid),
          timeout: Type.Optional(Timeout),
        },
        { additionalProperties: false },
      ),
    ),
    survey_rules: Type.Optional(SurveyRules),
    dimensions: Type.Optional(
      Type.Array(Dimension, {
        maxItems: 20,
        description: "Variables recorded with each survey as its dimensions (agent, team, tags, ticket), frozen when the rating is offered: figures filter and group by them.",
      }),
    ),
    blocks: Type.Record(Id, Block, { minProperties: 1, additionalProperties: false }),
  },
  { additionalProperties: false },
);

export type Scenario = Static<typeof ScenarioSchema>;
export type ScenarioBlock = Static<typeof Block>;
export type MessageBlock = Static<typeof MessageBlock>;
export type KeyboardBlock = Static<typeof KeyboardBlock>;
export type WaitBlock = Static<typeof WaitBlock>;
export type ActionBlock = Static<typeof ActionBlock>;
export type SetBlock = Static<typeof SetBlock>;
export type SetValueSpec = Static<typeof SetValue>;
export type SetOperationSpec = Static<typeof SetOperation>;
export type EndBlock = Static<typeof EndBlock>;
export type NextSpec = Static<typeof Next>;
export type RuleSpec = Static<typeof Rule>;
export type Localized = Static<typeof LocalizedText>;
export type ButtonSpec = Static<typeof Button>;

/** The JSON document written to scenario.schema.json (draft 2020-12, for ajv and editors). */
export function renderScenarioJsonSchema(): Record<string, unknown> {
  const body = JSON.parse(JSON.stringify(ScenarioSchema)) as Record<string, unknown>;
  return {
    $schema: "https://json-schema.org/draft/2020-12/schema",
    $id: "https://botflow.dev/scenario.schema.json",
    title: "botflow scenario",
    ...body,
  };
}

/** A block that asks and waits for the user (buttons or free text): the one test of "is this a question". */
export type QuestionBlock = KeyboardBlock | WaitBlock;

/** Whether `block` asks the user and waits (message_with_keyboard or wait_for_response). */
export function isQuestion(block: ScenarioBlock | undefined): block is QuestionBlock {
  return block?.type === "message_with_keyboard" || block?.type === "wait_for_response";
}
