/**
 * Every channel's limits and question plan (engine/catalog.ts `ChannelLimits`), each declared
 * once in its folder's capabilities.ts and given by its module as `limits`: the same objects as
 * `CHANNEL_MODULES.map((m) => m.limits)`, in the same order (a test checks it), without loading a
 * channel's SDK, its HTTP routes or its configuration. `botflow validate` checks scenarios
 * against them all: an enabled channel's problems are errors, the others' warnings.
 */
import type { ChannelLimits } from "../engine/catalog.ts";
import { TEAMS_LIMITS } from "./teams/capabilities.ts";
import { TELEGRAM_LIMITS } from "./telegram/capabilities.ts";
import { WEBCHAT_LIMITS } from "./webchat/capabilities.ts";
import { WHATSAPP_CLOUD_LIMITS } from "./whatsapp-cloud/capabilities.ts";
import { WHATSAPP_WEB_LIMITS } from "./whatsapp/capabilities.ts";

/** The channels' limits, in the order of CHANNEL_MODULES. */
export const CHANNEL_LIMITS: readonly ChannelLimits[] = [WEBCHAT_LIMITS, TELEGRAM_LIMITS, WHATSAPP_CLOUD_LIMITS, WHATSAPP_WEB_LIMITS, TEAMS_LIMITS];
