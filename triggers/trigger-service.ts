/**
 * The trigger: a helpdesk, a CRM or another bot asks for a survey of one recipient on one
 * channel, and this decides, records and (through the outbox) sends it.
 *
 * `accept` answers the caller at once: it checks the channel, the scenario and the recipient,
 * applies the survey rules (engine/survey-rules.ts), records the decision (one trigger per key, across
 * processes) and hands the send to the outbox; nothing is recorded when a check fails, and a
 * trigger whose enqueue fails is removed again. `send` is the outbox's handler: it starts the
 * scenario with the trigger's variables through the runtime, so the channel sends the first
 * question unprompted, and records the survey it started. `expire` closes surveys left
 * unanswered past their expiry; `recover` hands the outbox what it may have lost (the embedded
 * outbox lives in memory).
 *
 * @example
 * const answer = await triggers.accept(request);   // { status: 202, body: { id, result: "scheduled", runAt, … } }
 * outbox.start((job) => triggers.send(job.id));
 */
import { randomUUID } from "node:crypto";
import { ChannelError, errorSummary } from "../engine/errors.ts";
import { systemClock, type Clock, type Logger, silentLogger } from "../engine/ports.ts";
import type { HandleResult } from "../engine/runtime.ts";
import { surveyId } from "../engine/runtime.ts";
import type { LoadedScenario } from "../engine/scenario.ts";
import type { InboundEvent } from "../engine/types.ts";
import type { Channel } from "../channels/port.ts";
import { afterQuietHours, isSampled, mergeRules } from "../engine/survey-rules.ts";
import type { TriggerRequest } from "./trigger-request.ts";
import type { TriggerRecord, TriggerStore } from "./trigger-store.ts";

/** What the service needs of the outbox: a durable, deduplicated "send this trigger at runAt". */
export interface TriggerOutbox {
  add(job: { id: string; channel: string; runAt?: number; payload: { triggerId: string } }): Promise<{ added: boolean }>;
}

export interface TriggerServiceOptions {
  store: TriggerStore;
  outbox: TriggerOutbox;
  /** Every channel botflow knows (an unknown name is a 400), and the enabled ones by name. */
  knownChannels: readonly string[];
  channel(name: string): Channel | undefined;
  scenario(id: string): LoadedScenario | undefined;
  handle(event: InboundEvent): Promise<HandleResult>;
  clock?: Clock;
  logger?: Logger;
  newId?: () => string;
}

/** What happened to a trigger, in the words of the API's `result`. */
export type TriggerResult = "started" | "scheduled" | "duplicate" | "skipped";

/** The JSON the API answers for a trigger (`POST` and `GET /api/dialogues/{id}`). */
export interface TriggerView {
  id: string;
  key?: string;
  channel: string;
  to: string;
  scenario: string;
  state: TriggerRecord["state"];
  result?: TriggerResult;
  /** The rule that skipped it, or why it failed. */
  reason?: string;
  runAt: string;
  createdAt: string;
  sentAt?: string;
  expiresAt?: string;
  surveyId?: string;
  variables: TriggerRecord["variables"];
}

export type TriggerAnswer =
  | { status: 200 | 202; body: TriggerView }
  | { status: 400 | 404 | 422 | 503; body: { error: string; field?: string; message: string } };

export class TriggerService {
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly newId: () => string;

  constructor(private readonly o: TriggerServiceOptions) {
    this.clock = o.clock ?? systemClock;
    this.log = o.logger ?? silentLogger;
    this.newId = o.newId ?? (() => randomUUID());
  }

  async accept(r: TriggerRequest): Promise<TriggerAnswer> {
    if (!this.o.knownChannels.includes(r.channel)) {
      return refuse(400, "bad_request", `unknown channel "${r.channel}": use one of ${this.o.knownChannels.join(", ")}`, "channel");
    }
    const channel = this.o.channel(r.channel);
    if (!channel) return refuse(422, "channel_not_enabled", `the ${r.channel} channel is not enabled on this server: configure it first (see the README's channel table)`, "channel");
    if (!channel.proactive) return refuse(422, "not_supported", `the ${r.channel} channel cannot send a first message nobody asked for`, "channel");
    const scenario = this.o.scenario(r.scenario);
    if (!scenario) return refuse(422, "unknown_scenario", `no scenario "${r.scenario}" is loaded: check the id against botflow validate's list`, "scenario");

    const target = await channel.proactive.resolve({ to: r.to, ...(r.options ? { options: r.options } : {}) });
    if (!target.ok) {
      // A retry of a trigger accepted before is a duplicate even when its recipient is gone since.
      const existing = r.key !== undefined ? await this.o.store.byKey(r.key) : undefined;
      if (existing) return { status: 200, body: view(existing, "duplicate") };
      return refuse(target.status, target.problem, target.reason, target.problem === "invalid_options" ? "options" : "to");
    }

    const now = this.clock.now();
    const id = this.newId();
    // The scenario's `survey_rules:` (parsed when it loaded) under the call's `policy`, field by field.
    const rules = mergeRules(scenario.surveyRules, r.policy);
    const sampledOut = !isSampled(rules, r.key ?? id);
    const runAt = afterQuietHours(r.at ?? now + (r.delayMs ?? 0), rules);
    // One statement in the common case: the key's uniqueness is the insert's conflict, and the
    // cooldown (when the rules have one) is checked under the same per-recipient lock.
    const { created, record } = await this.o.store.insert({
      id,
      channel: r.channel,
      recipient: r.to,
      scenarioId: r.scenario,
      variables: r.variables,
      status: sampledOut ? "skipped" : "scheduled",
      runAt,
      createdAt: now,
      ...(r.key !== undefined ? { key: r.key } : {}),
      ...(r.locale !== undefined ? { locale: r.locale } : {}),
      ...(r.options !== undefined ? { options: r.options } : {}),
      ...(sampledOut ? { reason: "sample" } : {}),
      ...(rules.cooldownMs ? { cooldownSince: now - rules.cooldownMs } : {}),
      ...(rules.expireAfterMs ? { expireAfterMs: rules.expireAfterMs } : {}),
    });
    // The same key, accepted before or meanwhile by another request or process.
    if (!created) return { status: 200, body: view(record, "duplicate") };
    if (record.status === "skipped") {
      this.log.info({ trigger: id, channel: r.channel, scenario: r.scenario, rule: record.reason }, "trigger skipped by a survey rule");
      return { status: 200, body: view(record, "skipped") };
    }
    try {
      await this.o.outbox.add({ id, channel: r.channel, runAt, payload: { triggerId: id } });
    } catch (err) {
      await this.o.store.remove(id).catch((e: unknown) => this.log.error({ err: errorSummary(e), trigger: id }, "could not remove a trigger whose enqueue failed; recover() sends it later"));
      this.log.error({ err: errorSummary(err), trigger: id }, "the outbox refused a trigger; the caller was told to retry");
      return refuse(503, "unavailable", "the outbox is unavailable, so nothing was recorded: retry the call (with the same key)");
    }
    return { status: 202, body: view(record, runAt <= now ? "started" : "scheduled") };
  }

  async get(id: string): Promise<TriggerView | undefined> {
    const record = await this.o.store.get(id);
    return record ? view(record) : undefined;
  }

  /**
   * Sends one trigger (the outbox's handler): starts its scenario for the recipient. Resolves when
   * it was sent, or recorded as failed for a reason no retry fixes; rejects when trying again later
   * may succeed (a rate limit, the messenger away), so the outbox retries it.
   */
  async send(id: string): Promise<void> {
    const t = await this.o.store.get(id);
    if (!t || t.status !== "scheduled") return; // sent, failed or gone: a redelivered job
    const now = this.clock.now();
    const channel = this.o.channel(t.channel);
    if (!channel?.proactive) return void (await this.fail(t, "channel_not_enabled"));
    if (!this.o.scenario(t.scenarioId)) return void (await this.fail(t, "scenario_not_loaded"));
    const target = await channel.proactive.resolve({ to: t.recipient, ...(t.options ? { options: t.options } : {}) });
    if (!target.ok) return void (await this.fail(t, target.problem));
    const ref = target.ref;
    const event: InboundEvent = {
      kind: "start",
      channel: ref.channel,
      conversationId: ref.conversationId,
      userId: ref.userId,
      scenarioId: t.scenarioId,
      variables: t.variables,
      dedupeKey: `trigger:${t.id}`,
      proactive: { triggerId: t.id, ...(t.options ? { options: t.options } : {}) },
      at: now,
      ...(ref.botId !== undefined ? { botId: ref.botId } : {}),
      ...(t.locale !== undefined ? { locale: t.locale } : {}),
    };
    let result: HandleResult;
    try {
      result = await this.o.handle(event);
    } catch (err) {
      if (err instanceof ChannelError && !err.retryable) return void (await this.fail(t, err.recipient ?? `delivery_failed: ${errorSummary(err).message}`));
      throw err;
    }
    const survey = result.status === "processed" && result.state ? surveyId(ref, result.state) : undefined;
    await this.o.store.markSent(t.id, {
      ref,
      sentAt: now,
      ...(survey !== undefined ? { surveyId: survey } : {}),
      ...(t.expireAfterMs ? { expiresAt: now + t.expireAfterMs } : {}),
    });
  }

  /** The outbox gave up on a trigger (retries exhausted): it is recorded as failed with why. */
  async failed(id: string, reason: string): Promise<void> {
    const t = await this.o.store.get(id);
    if (t) await this.fail(t, reason);
  }

  /**
   * Closes the surveys whose expiry passed unanswered: the waiting question is declined as a
   * timeout and the dialogue ends (the runtime's `expire` event), then the trigger is marked
   * expired. Returns how many.
   */
  async expire(limit = 200): Promise<number> {
    const now = this.clock.now();
    let n = 0;
    for (const t of await this.o.store.expiring(now, limit)) {
      const ref = t.ref;
      try {
        if (ref) {
          await this.o.handle({ ...ref, kind: "timeout", expire: { triggerId: t.id }, dedupeKey: `expire:${t.id}`, at: now });
        }
        if (await this.o.store.markExpired(t.id, now)) n++;
      } catch (err) {
        this.log.error({ err: errorSummary(err), trigger: t.id }, "could not expire a survey; the next sweep tries again");
      }
    }
    return n;
  }

  /** Hands the outbox every scheduled trigger due before `horizon` again (adding one it has is harmless). */
  async recover(horizonMs = 86_400_000, limit = 10_000): Promise<number> {
    const due = await this.o.store.scheduled(this.clock.now() + horizonMs, limit);
    for (const t of due) await this.o.outbox.add({ id: t.id, channel: t.channel, runAt: t.runAt, payload: { triggerId: t.id } });
    return due.length;
  }

  private async fail(t: TriggerRecord, reason: string): Promise<void> {
    if (await this.o.store.markFailed(t.id, reason, this.clock.now())) {
      this.log.warn({ trigger: t.id, channel: t.channel, scenario: t.scenarioId, reason }, "triggered survey could not be sent");
    }
  }

}

function refuse(status: 400 | 404 | 422 | 503, error: string, message: string, field?: string): TriggerAnswer {
  return { status, body: { error, message, ...(field !== undefined ? { field } : {}) } };
}

/** A record as the API shows it. */
export function view(t: TriggerRecord, result?: TriggerResult): TriggerView {
  const iso = (ms: number) => new Date(ms).toISOString();
  return {
    id: t.id,
    ...(t.key !== undefined ? { key: t.key } : {}),
    channel: t.channel,
    to: t.recipient,
    scenario: t.scenarioId,
    state: t.state,
    ...(result !== undefined ? { result } : {}),
    ...(t.reason !== undefined ? { reason: t.reason } : {}),
    runAt: iso(t.runAt),
    createdAt: iso(t.createdAt),
    ...(t.sentAt !== undefined ? { sentAt: iso(t.sentAt) } : {}),
    ...(t.expiresAt !== undefined ? { expiresAt: iso(t.expiresAt) } : {}),
    ...(t.surveyId !== undefined ? { surveyId: t.surveyId } : {}),
    variables: t.variables,
  };
}
