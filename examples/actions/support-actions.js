// Custom actions for botflow: load this file with
//   BOTFLOW_ACTIONS=./examples/actions/support-actions.js botflow validate examples/actions/after-hours.yaml
// (the same variable for `botflow serve`, `run`, `chat` and `test`). See examples/actions/README.md.
//
// The one shape botflow reads: the default export, a list of action definitions. Each has a
// name (lower case, digits and _, e.g. support__business_hours: prefix yours so they never clash
// with a built-in), a description, a JSON Schema for the block's `config` (checked when the
// scenario loads, with line and column), and run(config, ctx). `run` may resolve to
// { vars: { name: value } } to save variables (strings of at most 1000 characters or numbers);
// throwing fails the action, so the block's on_error runs. Actions must be idempotent: a
// redelivered message may run one again.

const VARIABLE = "^[A-Za-z_][A-Za-z0-9_]{0,63}$";
const CLOCK = "^([01][0-9]|2[0-3]):[0-5][0-9]$";

/** @typedef {import("../../actions/registry.ts").ActionDefinition} ActionDefinition */

/**
 * support__business_hours: saves "open" or "closed" into `save_to`, by the time of the step in
 * `timezone`, so a scenario can branch (next: [{ var: hours, equals: closed, goto: after_hours }]).
 *
 * @type {ActionDefinition}
 */
const businessHours = {
  name: "support__business_hours",
  description: "Saves open or closed into save_to, by the step's time in timezone between open and close on the given weekdays.",
  configSchema: {
    type: "object",
    properties: {
      timezone: { type: "string", description: "IANA time zone, e.g. Europe/Kyiv" },
      open: { type: "string", pattern: CLOCK, description: "Opening time, HH:MM" },
      close: { type: "string", pattern: CLOCK, description: "Closing time, HH:MM (after open)" },
      days: { type: "array", items: { type: "integer", minimum: 1, maximum: 7 }, minItems: 1, uniqueItems: true, description: "ISO weekdays that are open, 1 = Monday (default 1–5)" },
      save_to: { type: "string", pattern: VARIABLE, description: "The variable that receives open or closed" },
    },
    required: ["timezone", "open", "close", "save_to"],
    additionalProperties: false,
  },
  // Optional: checks the schema cannot make, each reported at its key's line and column.
  checkConfig(config) {
    const problems = [];
    try {
      new Intl.DateTimeFormat("en", { timeZone: String(config.timezone) });
    } catch {
      problems.push({ path: ["timezone"], message: `"${config.timezone}" is not an IANA time zone; use one such as Europe/Kyiv` });
    }
    if (String(config.open) >= String(config.close)) problems.push({ path: ["close"], message: "close must be after open" });
    return problems;
  },
  // Optional: the variables it saves, so texts and next rules that use them are not warned about.
  savesVariables: (config) => [String(config.save_to)],
  async run(config, ctx) {
    const parts = Object.fromEntries(
      new Intl.DateTimeFormat("en-GB", { timeZone: config.timezone, weekday: "short", hour: "2-digit", minute: "2-digit", hourCycle: "h23" })
        .formatToParts(new Date(ctx.at))
        .map((p) => [p.type, p.value]),
    );
    const weekday = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"].indexOf(parts.weekday) + 1;
    const now = `${parts.hour}:${parts.minute}`;
    const days = Array.isArray(config.days) ? config.days : [1, 2, 3, 4, 5];
    const open = days.includes(weekday) && now >= config.open && now < config.close;
    return { vars: { [config.save_to]: open ? "open" : "closed" } };
  },
};

/**
 * support__order_ref: reads what the user typed in `from` ("#a-1234 "), keeps the letters and
 * digits in upper case ("A1234") into `save_to`, and fails (so on_error can ask again) when
 * that is not an order reference.
 *
 * @type {ActionDefinition}
 */
const orderRef = {
  name: "support__order_ref",
  description: "Normalises a typed order reference (#a-1234 → A1234) into save_to; fails when it is not one.",
  configSchema: {
    type: "object",
    properties: {
      from: { type: "string", pattern: VARIABLE, description: "The variable holding what the user typed" },
      save_to: { type: "string", pattern: VARIABLE, description: "The variable that receives the reference" },
    },
    required: ["from", "save_to"],
    additionalProperties: false,
  },
  savesVariables: (config) => [String(config.save_to)],
  async run(config, ctx) {
    const typed = String(ctx.vars[config.from] ?? "");
    const ref = typed.toUpperCase().replace(/[^A-Z0-9]/g, "");
    // The message names the variable, not its value: the user typed it, and error messages are logged.
    if (!/^[A-Z][0-9]{3,10}$/.test(ref)) throw new Error(`${config.from} is not an order reference (a letter and 3–10 digits)`);
    return { vars: { [config.save_to]: ref } };
  },
};

export default [businessHours, orderRef];
