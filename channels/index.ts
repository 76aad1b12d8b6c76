/**
 * Every channel botflow has, one module each (channels/module.ts says what a module gives). The
 * composition root, the configuration loader and the services loop over this list and name no
 * channel: adding one is its folder, one line here, and the contract suite
 * (test/channels/channel-contract.ts) green for it. See channels/README.md.
 */
import type { ChannelModule } from "./module.ts";
import { teamsModule } from "./teams/module.ts";
import { telegramModule } from "./telegram/module.ts";
import { webchatModule } from "./webchat/module.ts";
import { whatsappCloudModule } from "./whatsapp-cloud/module.ts";
import { whatsappWebModule } from "./whatsapp/module.ts";

export type { ChannelDeps, ChannelInstance, ChannelModule, ChannelRoutesContext, ConfigContext, ConfigGetter } from "./module.ts";
export { scenarioVariable } from "./module.ts";

/** The channels, in the order they start and are listed. */
export const CHANNEL_MODULES: readonly ChannelModule[] = [webchatModule, telegramModule, whatsappCloudModule, whatsappWebModule, teamsModule];
