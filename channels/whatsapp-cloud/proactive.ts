/**
 * The WhatsApp Cloud API's answer to the trigger API (channels/port.ts ProactiveCapability): who a
 * wa_id is, and whether a first message can reach them now. Inside the user's 24-hour window the
 * survey's question goes out as usual; outside it, a template must (from the call's
 * `options.template`, or WHATSAPP_CLOUD_TEMPLATE*), or the trigger is refused with a 422 that says
 * how to fix it.
 *
 * @example
 * const target = await channel.proactive.resolve({ to: "16505551234", options: { template: { name: "csat_request", language: "en_US" } } });
 */
import type { ProactiveCapability, ProactiveRequest, ProactiveTarget } from "../port.ts";
import { WHATSAPP_CLOUD } from "./graph-client.ts";
import type { ServiceWindow } from "./service-window.ts";
import { parseTemplate, type TemplateSpec } from "./template.ts";

/** A wa_id: the user's phone number in international form, digits only (as webhooks give `from`). */
const WA_ID = /^[0-9]{6,15}$/;
const OPTIONS = new Set(["template"]);

/** What a proactive first message will be: the question (window open) or a template. */
export type ProactivePlan = { ok: true; template: TemplateSpec | undefined } | { ok: false; problem: "window_closed" | "invalid_options"; reason: string };

export class WhatsappCloudProactive implements ProactiveCapability {
  constructor(
    private readonly window: ServiceWindow,
    private readonly defaultTemplate: TemplateSpec | undefined,
  ) {}

  async resolve({ to, options }: ProactiveRequest): Promise<ProactiveTarget> {
    if (!WA_ID.test(to)) {
      return {
        ok: false,
        status: 422,
        problem: "unknown_recipient",
        reason: `${JSON.stringify(to.slice(0, 40))} is not a WhatsApp id: give the user's number in international form, digits only (6 to 15, no +, spaces or dashes), e.g. 16505551234`,
      };
    }
    const plan = await this.plan(to, options);
    if (!plan.ok) return { ok: false, status: 422, problem: plan.problem, reason: plan.reason };
    // The same ref a webhook from that user makes (webhook.ts), so their answer finds the dialogue.
    return { ok: true, ref: { channel: WHATSAPP_CLOUD, conversationId: to, userId: to } };
  }

  /** Whether the first message to `to` is the question (template undefined) or a template, checked now. */
  async plan(to: string, options: Readonly<Record<string, unknown>> | undefined): Promise<ProactivePlan> {
    const unknown = Object.keys(options ?? {}).filter((k) => !OPTIONS.has(k));
    if (unknown.length > 0) {
      return { ok: false, problem: "invalid_options", reason: `options.${unknown[0]?.slice(0, 40)} is not a WhatsApp Cloud API option; the one option is template ({"name", "language", "parameters"})` };
    }
    let template = this.defaultTemplate;
    if (options?.template !== undefined) {
      const parsed = parseTemplate(options.template, "options.template");
      if (!parsed.ok) return { ok: false, problem: "invalid_options", reason: parsed.reason };
      template = parsed.template;
    }
    if (await this.window.isOpen(to)) return { ok: true, template: undefined };
    if (template) return { ok: true, template };
    return {
      ok: false,
      problem: "window_closed",
      reason:
        `the 24-hour customer-service window with ${to} is closed and no template is configured: ` +
        "they have not written in the last 24 hours, and WhatsApp then lets a business write first only with an approved template. Create one in WhatsApp Manager with one quick-reply button per answer, " +
        "then set WHATSAPP_CLOUD_TEMPLATE and WHATSAPP_CLOUD_TEMPLATE_LANGUAGE, or pass options.template {name, language, parameters} with the trigger",
    };
  }
}
