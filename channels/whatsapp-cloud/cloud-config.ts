/**
 * The WhatsApp Cloud API channel's configuration, read by app/config.ts (the only module that
 * sees the environment) through `get`. The channel is enabled when its four required
 * variables are set; some but not all of them is a mistake worth stopping for.
 */
import { isHttpUrl } from "../http-url.ts";

export interface WhatsappCloudConfig {
  /** Secrets: never logged nor echoed in errors. */
  accessToken: string;
  appSecret: string;
  verifyToken: string;
  phoneNumberId: string;
  /** Graph API base URL with its version. */
  apiRoot: string;
}

export const DEFAULT_GRAPH_API_ROOT = "https://graph.facebook.com/v21.0";

const REQUIRED = ["WHATSAPP_CLOUD_ACCESS_TOKEN", "WHATSAPP_CLOUD_PHONE_NUMBER_ID", "WHATSAPP_CLOUD_APP_SECRET", "WHATSAPP_CLOUD_VERIFY_TOKEN"] as const;

/** The variables, with what each means (merged into CONFIG_VARIABLES). */
export const WHATSAPP_CLOUD_VARIABLES: Readonly<Record<string, string>> = {
  WHATSAPP_CLOUD_ACCESS_TOKEN: "WhatsApp Cloud API: access token (system user token) the Graph API calls send; with the other three WHATSAPP_CLOUD_* enables the channel",
  WHATSAPP_CLOUD_PHONE_NUMBER_ID: "WhatsApp Cloud API: id of the business phone number that sends and receives (not the number itself)",
  WHATSAPP_CLOUD_APP_SECRET: "WhatsApp Cloud API: the Meta app's secret; webhook posts whose X-Hub-Signature-256 does not match it get 401",
  WHATSAPP_CLOUD_VERIFY_TOKEN: "WhatsApp Cloud API: any string you also type into the app's webhook settings; GET /whatsapp/webhook checks it",
  WHATSAPP_CLOUD_API_ROOT: `WhatsApp Cloud API: Graph API base URL with its version (default ${DEFAULT_GRAPH_API_ROOT})`,
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
  return {
    accessToken: get("WHATSAPP_CLOUD_ACCESS_TOKEN") as string,
    appSecret: get("WHATSAPP_CLOUD_APP_SECRET") as string,
    verifyToken: get("WHATSAPP_CLOUD_VERIFY_TOKEN") as string,
    phoneNumberId,
    apiRoot,
  };
}
