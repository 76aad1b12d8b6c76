/**
 * What one channel folder gives the composition root: its name, the variables it reads, how it
 * reads them, its rendering limits, and how to make the running channel (and its HTTP routes).
 * channels/index.ts lists the modules; app/config.ts, app/services.ts and app/compose.ts loop over
 * that list and name no channel, so adding one is a folder, one line in the list and a green
 * contract suite (channels/README.md).
 *
 * @example
 * export const telegramModule = defineChannel<TelegramConfig>({
 *   name: TELEGRAM, title: "Telegram", variables: TELEGRAM_VARIABLES, limits: TELEGRAM_LIMITS,
 *   parseConfig: (get, problems) => parseTelegramConfig(get, problems),
 *   create: async (config, deps) => ({ channel: new TelegramChannel({ ...config, logger: deps.logger, storage: deps.storage }) }),
 * });
 */
import type { FastifyInstance, preHandlerAsyncHookHandler } from "fastify";
import type { Redis } from "ioredis";
import type { ChannelLimits } from "../engine/catalog.ts";
import type { Logger } from "../engine/ports.ts";
import type { Channel } from "./port.ts";
import type { ChannelStorage } from "./storage/channel-storage.ts";
import type { WebhookPolicy } from "./webhook-route.ts";

/** Reads one configuration variable (environment, then the config file); undefined when unset. */
export type ConfigGetter = (name: string) => string | undefined;

/** What a module's parseConfig may need besides the variables. */
export interface ConfigContext {
  /** Relative paths resolve against it. */
  cwd: string;
  /** Absolute BOTFLOW_DATA_DIR: a channel's files (a login session) default under it. */
  dataDir: string;
}

/** What the composition root gives a channel it creates. */
export interface ChannelDeps {
  logger: Logger;
  /** This channel's part of ChannelStorage (Redis in production, memory embedded), already scoped to it. */
  storage: ChannelStorage;
  /** Production: the process's Redis connection, for a channel's own shared stores (the caller closes it); undefined embedded. */
  redis?: Redis;
  /** Put before the channel's own Redis keys (BOTFLOW_STATE_PREFIX and the channel's name). */
  keyPrefix: string;
  /** BOTFLOW_<CHANNEL>_SCENARIO: the scenario a new conversation on this channel starts; default the runtime's. */
  scenarioId?: string;
  /** Test seams of this channel (a fake client factory), as ComposeOptions.channelSeams gives them. */
  seams?: unknown;
}

/** What a channel's routes may use besides the channel. */
export interface ChannelRoutesContext {
  logger: Logger;
  /** Guards ops routes (a login QR) like the dashboard: BOTFLOW_TOKEN. */
  guard: preHandlerAsyncHookHandler;
  /** What every webhook route takes from the composition root: the deadline and the drop counter. */
  webhook: WebhookPolicy;
}

/** A created channel: the port, and what the composition root mounts or measures for it. */
export interface ChannelInstance {
  channel: Channel;
  /** Its HTTP routes (a webhook, a page, an ops endpoint); none for a pure client channel. */
  routes?: (app: FastifyInstance, context: ChannelRoutesContext) => Promise<void>;
  /** Numbers for /metrics, by name (the web chat's open sockets). */
  gauges?: () => Readonly<Record<string, number>>;
}

/** One channel folder's entry in channels/index.ts. */
export interface ChannelModule<Config = unknown> {
  /** The name events carry, and the `<CHANNEL>` of BOTFLOW_<CHANNEL>_SCENARIO (upper-cased, `-` as `_`). */
  name: string;
  /** How people call it in messages ("WhatsApp Cloud API"). */
  title: string;
  /** The variables it reads, with what each means (merged into CONFIG_VARIABLES and the README's table). */
  variables: Readonly<Record<string, string>>;
  limits: ChannelLimits;
  /** Its settings, or undefined when it is not enabled; problems go to `problems`, never quoting a secret. */
  parseConfig(get: ConfigGetter, problems: string[], context: ConfigContext): Config | undefined;
  /** Makes the channel (not started: the composition root calls `start(handle)`). */
  create(config: Config, deps: ChannelDeps): Promise<ChannelInstance>;
  /**
   * A person's erasure: deletes what the channel keeps in ChannelStorage about the conversation
   * `conversationId` (the id a trigger's `to` names), from `storage`, this channel's scope of it,
   * whether or not the channel is enabled now. Resolves to how many entries. Absent: it keeps
   * nothing per person.
   */
  forget?(storage: ChannelStorage, conversationId: string): Promise<number>;
}

/** Types a module's entry; the list holds them without their config types (each module checks its own). */
export function defineChannel<Config>(module: ChannelModule<Config>): ChannelModule {
  return module as unknown as ChannelModule;
}

/** BOTFLOW_<CHANNEL>_SCENARIO of a channel. */
export function scenarioVariable(name: string): string {
  return `BOTFLOW_${name.toUpperCase().replace(/-/g, "_")}_SCENARIO`;
}
