/**
 * The WhatsApp Cloud API channel's configuration, read by app/config.ts (the only module that
 * sees the environment) through `get`. The channel is enabled when its four required
 * variables are set; some but not all of them is a mistake worth stopping for.
 */
import { isHttpUrl } from "../http-url.ts";
import { parseMessagesPerSecond } from "../rate-limit/rate-config.ts";
import { parseTemplate, type TemplateSpec } from "./template.ts";

export interface WhatsappCloudConfig {
  /** Secrets: never logged nor echoed in errors. */
  accessToken: string;
  appSecret: string;
  verifyToken: string;
  phoneNumberId: string;
  /** Graph API base URL with its version. */
  apiRoot: string;
  /** The template a proactive survey sends when the 24-hour window is closed and the trigger names none. */
  template?: TemplateSpec;
  /** The number's pace for triggered surveys (WHATSAPP_CLOUD_MESSAGES_PER_SECOND). */
  messagesPerSecond: number;
}

/** The Cloud API's default throughput per business phone number: 80 messages a second. */
export const WHATSAPP_CLOUD_MESSAGES_PER_SECOND = 80;

export const DEFAULT_GRAPH_API_ROOT = "https://graph.facebook.com/v21.0";

const REQUIRED = ["WHATSAPP_CLOUD_ACCESS_TOKEN", "WHATSAPP_CLOUD_PHONE_NUMBER_ID", "WHATSAPP_CLOUD_APP_SECRET", "WHATSAPP_CLOUD_VERIFY_TOKEN"] as const;

/** The variables, with what each means (merged into CONFIG_VARIABLES). */
export const WHATSAPP_CLOUD_VARIABLES: Readonly<Record<string, string>> = {
  WHATSAPP_CLOUD_ACCESS_TOKEN: "WhatsApp Cloud API: access token (system user token) the Graph API calls send; with the other three WHATSAPP_CLOUD_* enables the channel",
  WHATSAPP_CLOUD_PHONE_NUMBER_ID: "WhatsApp Cloud API: id of the business phone number that sends and receives (not the number itself)",
  WHATSAPP_CLOUD_APP_SECRET: "WhatsApp Cloud API: the Meta app's secret; webhook posts whose X-Hub-Signature-256 does not match it get 401",
  WHATSAPP_CLOUD_VERIFY_TOKEN: "WhatsApp Cloud API: any string you also type into the app's webhook settings; GET /whatsapp/webhook checks it",
  WHATSAPP_CLOUD_API_ROOT: `WhatsApp Cloud API: Graph API base URL with its version (default ${DEFAULT_GRAPH_API_ROOT})`,
  WHATSAPP_CLOUD_TEMPLATE:
    "WhatsApp Cloud API: name of the approved message template a triggered survey sends when the user's 24-hour window is closed (one quick-reply button per button of the question, in order); unset: such a trigger is refused unless it names its own",
  WHATSAPP_CLOUD_TEMPLATE_LANGUAGE: "WhatsApp Cloud API: language code WHATSAPP_CLOUD_TEMPLATE was approved in, e.g. en_US (required with it)",
  WHATSAPP_CLOUD_TEMPLATE_PARAMETERS:
    'WhatsApp Cloud API: JSON list of WHATSAPP_CLOUD_TEMPLATE\'s body parameters {{1}}, {{2}}… (or object of named ones), each text with {{variable}} from the trigger and {{question}}, e.g. ["{{name}}","{{question}}"] (default none)',
  WHATSAPP_CLOUD_MESSAGES_PER_SECOND: `WhatsApp Cloud API: the number's pace, messages a second, that triggered surveys wait for and replies count against, shared by every process (default ${WHATSAPP_CLOUD_MESSAGES_PER_SECOND}, the Cloud API's default throughput; raise it when Meta raised yours)`,
};

/** The channel's settings, undefined when it is not enabled; problems go to `problems`. */
export function parseWhatsappCloudConfig(get: (name: string) => string | undefined, problems: string[]): WhatsappCloudConfig | undefined {
  const missing = REQUIRED.filter((n) => get(n) === undefined);
  const apiRoot = get("WHATSAPP_CLOUD_API_ROOT") ?? DEFAULT_GRAPH_API_ROOT;
  if (missing.length === REQUIRED.length) return undefined;
  if (missing.length > 0) {
    problems.push(`the WhatsApp Cloud API channel needs all of ${REQUIRED.join(", ")}; ${missing.join(", ")} ${missing.length === 1 ? "is" : "are"} not set. Set ${missing.length === 1 ? "it" : "them"}, or unset the others to turn the channel off`);
    return undefined;
  }
  if (!isHttpUrl(apiRoot)) {
    problems.push(`WHATSAPP_CLOUD_API_ROOT is not an http(s) URL: use the Graph API base with its version, e.g. ${DEFAULT_GRAPH_API_ROOT}`);
    return undefined;
  }
  const phoneNumberId = get("WHATSAPP_CLOUD_PHONE_NUMBER_ID") as string;
  if (!/^[0-9]{1,32}$/.test(phoneNumberId)) {
    problems.push(`WHATSAPP_CLOUD_PHONE_NUMBER_ID "${phoneNumberId}" is not a phone number id (digits, shown under WhatsApp → API Setup in the Meta app; not the phone number)`);
    return undefined;
  }
  const template = parseDefaultTemplate(get, problems);
  if (template === null) return undefined;
  const before = problems.length;
  const messagesPerSecond = parseMessagesPerSecond(get, "WHATSAPP_CLOUD_MESSAGES_PER_SECOND", WHATSAPP_CLOUD_MESSAGES_PER_SECOND, problems);
  if (problems.length > before) return undefined;
  return {
    accessToken: get("WHATSAPP_CLOUD_ACCESS_TOKEN") as string,
    appSecret: get("WHATSAPP_CLOUD_APP_SECRET") as string,
    verifyToken: get("WHATSAPP_CLOUD_VERIFY_TOKEN") as string,
    phoneNumberId,
    apiRoot,
    messagesPerSecond,
    ...(template !== undefined ? { template } : {}),
  };
}

/** WHATSAPP_CLOUD_TEMPLATE*: the default template, undefined when unset, null after a problem. */
function parseDefaultTemplate(get: (name: string) => string | undefined, problems: string[]): TemplateSpec | undefined | null {
  const name = get("WHATSAPP_CLOUD_TEMPLATE");
  const language = get("WHATSAPP_CLOUD_TEMPLATE_LANGUAGE");
  const rawParameters = get("WHATSAPP_CLOUD_TEMPLATE_PARAMETERS");
  if (name === undefined) {
    if (language === undefined && rawParameters === undefined) return undefined;
    problems.push("WHATSAPP_CLOUD_TEMPLATE_LANGUAGE and WHATSAPP_CLOUD_TEMPLATE_PARAMETERS describe WHATSAPP_CLOUD_TEMPLATE, which is not set: set it to the template's name, or unset them");
    return null;
  }
  if (language === undefined) {
    problems.push("WHATSAPP_CLOUD_TEMPLATE needs WHATSAPP_CLOUD_TEMPLATE_LANGUAGE: the language code the template was approved in (e.g. en_US), as WhatsApp Manager shows it");
    return null;
  }
  let parameters: unknown;
  if (rawParameters !== undefined) {
    try {
      parameters = JSON.parse(rawParameters);
    } catch {
      problems.push('WHATSAPP_CLOUD_TEMPLATE_PARAMETERS is not JSON: write a list such as ["{{name}}","{{question}}"] (or an object of named parameters)');
      return null;
    }
  }
  const parsed = parseTemplate({ name, language, ...(parameters !== undefined ? { parameters } : {}) }, "WHATSAPP_CLOUD_TEMPLATE");
  if (!parsed.ok) {
    // The spec's fields are variables here: name them so.
    problems.push(parsed.reason.replace("WHATSAPP_CLOUD_TEMPLATE.name", "WHATSAPP_CLOUD_TEMPLATE").replace(/WHATSAPP_CLOUD_TEMPLATE\.(language|parameters)/g, (_, f: string) => `WHATSAPP_CLOUD_TEMPLATE_${f.toUpperCase()}`));
    return null;
  }
  return parsed.template;
}
