/**
 * The composition root: the one place that wires configuration, scenarios, the state store,
 * actions, the statistics pipeline, the runtime, the channels and the HTTP server, and that
 * takes them down again in order.
 *
 * @example
 * const app = await composeApp(loadConfig(env, { cwd }), { logger });
 * const { chatUrl } = await app.listen();
 * // ... later, on SIGTERM:
 * await app.close();
 */
import type { FSWatcher } from "node:fs";
import { stat } from "node:fs/promises";
import type { FastifyInstance } from "fastify";
import { ActionRegistry } from "../actions/registry.ts";
import { statisticSetAction } from "../actions/statistic-set.ts";
import { ConfigError, formatProblem, type ScenarioProblem } from "../engine/errors.ts";
import { systemClock, type Clock } from "../engine/ports.ts";
import { ScenarioRegistry } from "../engine/registry.ts";
import { Runtime } from "../engine/runtime.ts";
import { SurveyTracker } from "../stats/survey-tracker.ts";
import { webchatRoutes } from "../channels/webchat/plugin.ts";
import { WEBCHAT_LIMITS, WebchatChannel } from "../channels/webchat/webchat-channel.ts";
import { teamsRoutes } from "../channels/teams/plugin.ts";
import { TEAMS_LIMITS, TeamsChannel } from "../channels/teams/teams-channel.ts";
import { telegramRoutes } from "../channels/telegram/plugin.ts";
import { TELEGRAM_LIMITS, TelegramChannel } from "../channels/telegram/telegram-channel.ts";
import type { Channel } from "../channels/port.ts";
import { whatsappCloudRoutes } from "../channels/whatsapp-cloud/plugin.ts";
import { WHATSAPP_CLOUD_LIMITS } from "../channels/whatsapp-cloud/render.ts";
import { WhatsappCloudChannel } from "../channels/whatsapp-cloud/whatsapp-cloud-channel.ts";
import { whatsappWebRoutes } from "../channels/whatsapp/plugin.ts";
import { loadWhatsappWebClientFactory, qrForTerminal } from "../channels/whatsapp/real-client.ts";
import { WHATSAPP_WEB_LIMITS } from "../channels/whatsapp/render.ts";
import type { WebClientFactory } from "../channels/whatsapp/web-client-port.ts";
import { WhatsappWebChannel } from "../channels/whatsapp/whatsapp-web-channel.ts";
import { createAppMetrics } from "./app-metrics.ts";
import { createAuth, requireAuth } from "./auth.ts";
import { dashboardRoutes } from "./dashboard-routes.ts";
import { queueRoutes } from "./queue-routes.ts";
import { statsRoutes } from "./stats-routes.ts";
import { ChannelDelivery } from "./channel-delivery.ts";
import { instrumentedActions, instrumentedHandler, instrumentedQueue } from "./instrument.ts";
import { METRICS_CONTENT_TYPE } from "./metrics.ts";
import type { AppConfig } from "./config.ts";
import { createLogger, type AppLogger } from "./logger.ts";
import { checkReadiness, type ReadinessCheck, type ReadinessReport } from "./readiness.ts";
import { buildServer } from "./server.ts";
import { openServices, type Services } from "./services.ts";
import type { SurveyQueue } from "../stats/events.ts";
import type { SurveyStore } from "../stats/store/survey-store.ts";

export interface ComposeOptions {
  logger?: AppLogger;
  /** Tests pass a simulated clock to fire timeouts without waiting. */
  clock?: Clock;
  /** An open, migrated statistics store to use instead of opening one (tests); the caller closes it. */
  surveyStore?: SurveyStore;
  /** WhatsApp Web clients to use instead of whatsapp-web.js's (tests: a fake; nothing launches a browser). */
  whatsappWebClient?: WebClientFactory;
}

export interface ListenResult {
  /** Base URL (with the real port when PORT=0). */
  url: string;
  chatUrl: string;
  dashboardUrl: string;
  port: number;
}

/** The running web process, as wired by {@link composeApp}. */
export interface App {
  config: AppConfig;
  logger: AppLogger;
  server: FastifyInstance;
  runtime: Runtime;
  scenarios: ScenarioRegistry;
  webchat: WebchatChannel;
  services: Services;
  /** Binds HOST:PORT, starts the timeout sweeper and (in development) the scenario file watch. */
  listen(): Promise<ListenResult>;
  /** SIGHUP: reloads every scenario file; a file that fails keeps its previous version. */
  reloadScenarios(): Promise<ScenarioProblem[]>;
  /** Fires due no-answer timeouts once (the sweeper calls it on an interval). */
  sweep(): Promise<number>;
  readiness(): Promise<ReadinessReport>;
  /** Graceful shutdown: stop the sweeper, drain channels, close the server, the queue and the stores. */
  close(): Promise<void>;
}

/** Wires the web process; rejects with ConfigError (and closes what it opened) when it cannot start. */
export async function composeApp(config: AppConfig, options: ComposeOptions = {}): Promise<App> {
  const logger = options.logger ?? createLogger(config.logLevel);
  const clock = options.clock ?? systemClock;
  for (const w of config.warnings) logger.warn({}, w);

  const closers: (() => Promise<void>)[] = [];
  const closeAll = async () => {
    for (const c of closers.reverse()) await c().catch((err: unknown) => logger.error({ err }, "error while closing"));
  };
  try {
    // Scenarios are checked before any service opens: a typo in a scenario costs no connection.
    // The action needs the queue only when it runs, so it reaches it through `surveys`.
    let services: Services | undefined;
    let webchatSockets = () => 0;
    const metrics = createAppMetrics({
      queueCounts: () => (services ? services.queueCounts() : Promise.resolve({})),
      jobLatency: () => (services ? services.jobLatency() : Promise.resolve({ oldestWaitingSeconds: 0, recentSeconds: [] })),
      webchatSockets: () => webchatSockets(),
      storeChecks: () => services?.checks ?? [],
    });
    const surveys: SurveyQueue = instrumentedQueue(() => (services as Services).surveys, metrics);
    const actions = new ActionRegistry().register(statisticSetAction(surveys));
    const scenarios = new ScenarioRegistry({ actions: actions.specs(), channels: [WEBCHAT_LIMITS, ...(config.teams ? [TEAMS_LIMITS] : []), ...(config.telegram ? [TELEGRAM_LIMITS] : []), ...(config.whatsappCloud ? [WHATSAPP_CLOUD_LIMITS] : []), ...(config.whatsappWeb ? [WHATSAPP_WEB_LIMITS] : [])] });
    await loadScenarios(scenarios, config, logger);

    services = await openServices(config, { clock, logger, ...(options.surveyStore ? { surveyStore: options.surveyStore } : {}) });
    const opened = services;
    closers.push(() => opened.close());
    const checks: ReadinessCheck[] = services.checks;

    const webchat = new WebchatChannel({
      logger,
      history: services.webchatHistory,
      ...(config.channelScenarios.webchat ? { scenarioId: config.channelScenarios.webchat } : {}),
    });
    webchatSockets = () => webchat.socketCount();
    await webchat.start();
    const channels: Channel[] = [webchat];
    const telegram = config.telegram
      ? new TelegramChannel({ token: config.telegram.token, apiRoot: config.telegram.apiRoot, mode: config.telegram.mode, logger })
      : undefined;
    if (telegram) channels.push(telegram);
    const whatsappCloud = config.whatsappCloud ? new WhatsappCloudChannel({ ...config.whatsappCloud, logger }) : undefined;
    if (whatsappCloud) channels.push(whatsappCloud);
    const whatsappWeb = config.whatsappWeb
      ? new WhatsappWebChannel({
          createClient: options.whatsappWebClient ?? (await loadWhatsappWebClientFactory(config.whatsappWeb)),
          polls: config.whatsappWeb.polls,
          logger,
          ...(options.whatsappWebClient ? {} : { printQr: (qr: string) => void process.stderr.write(`${qrForTerminal(qr)}\n`) }),
        })
      : undefined;
    if (whatsappWeb) channels.push(whatsappWeb);
    const teams = config.teams
      ? new TeamsChannel({
          credentials: config.teams,
          logger,
          conversations: services.teamsConversations,
          startOnInstall: config.teams.startOnInstall,
          ...(config.channelScenarios.teams ? { scenarioId: config.channelScenarios.teams } : {}),
        })
      : undefined;
    if (teams) channels.push(teams);

    const runtime = new Runtime({
      scenarios,
      store: services.state,
      delivery: new ChannelDelivery(channels, logger, (channel, effects) => {
        for (const e of effects) if (e.type === "send" || e.type === "close" || e.type === "ignored") metrics.effects.inc({ channel, type: e.type });
      }),
      actions: instrumentedActions(actions, metrics),
      tracker: new SurveyTracker(surveys),
      defaultScenarioId: config.scenarioId,
      clock,
      logger,
    });
    if (whatsappWeb) {
      closers.push(() => whatsappWeb.close());
      // Starts the client (and its Chromium) without waiting for the login: the QR comes later.
      await whatsappWeb.start(instrumentedHandler((e) => runtime.handle(e), metrics));
    }
    if (telegram) {
      // getMe checks the token before the server listens; polling mode starts fetching here.
      telegram.onEvent(instrumentedHandler((e) => runtime.handle(e), metrics));
      closers.push(() => telegram.close());
      await telegram.start();
    }

    let shuttingDown = false;
    const readiness = async (): Promise<ReadinessReport> => {
      if (shuttingDown) return { ready: false, checks: [{ name: "process", ok: false, error: "shutting down" }] };
      return checkReadiness(checks);
    };
    const auth = createAuth(config.token);
    if (!auth.enabled && !isLoopback(config.host)) {
      logger.warn({ host: config.host }, "the dashboard, statistics API and /metrics are open to anyone who reaches this address: set BOTFLOW_TOKEN");
    }
    const server = await buildServer({
      logger,
      readiness,
      home: "/chat",
      onResponse: (r) => metrics.http.observe({ method: r.method, route: r.route, status: String(r.status) }, r.seconds),
      mounts: [
        (app) => webchatRoutes(app, { channel: webchat, handle: instrumentedHandler((e) => runtime.handle(e), metrics), logger }),
        async (app) => {
          app.get("/metrics", { preHandler: requireAuth(auth, "/dashboard/login") }, async (_req, reply) =>
            reply.type(METRICS_CONTENT_TYPE).send(await metrics.registry.render()),
          );
        },
        (app) =>
          statsRoutes(app, {
            store: opened.surveyStore,
            auth,
            logger,
            filterOptions: () => ({
              scenarios: scenarios.list().map((s) => ({ id: s.id, name: s.def.name ?? "" })).sort((a, b) => a.id.localeCompare(b.id)),
              channels: channels.map((c) => c.name),
            }),
          }),
        (app) => dashboardRoutes(app, { auth }),
        async (app) => {
          if (telegram?.mode === "webhook") await telegramRoutes(app, { channel: telegram, secret: config.telegram?.webhookSecret, logger });
        },
        async (app) => {
          if (teams) await teamsRoutes(app, { channel: teams, handle: instrumentedHandler((e) => runtime.handle(e), metrics), logger });
        },
        async (app) => {
          if (whatsappCloud) await whatsappCloudRoutes(app, { channel: whatsappCloud, handle: instrumentedHandler((e) => runtime.handle(e), metrics), logger });
        },
        async (app) => {
          if (whatsappWeb) await whatsappWebRoutes(app, { channel: whatsappWeb, guard: requireAuth(auth, "/dashboard/login") });
        },
        (app) => queueRoutes(app, { services: opened, auth, mode: config.mode === "production" ? "BullMQ" : "in-process", logger }),
      ],
    });
    closers.push(() => server.close());

    let sweeping: Promise<number> | undefined;
    const sweep = (): Promise<number> => {
      sweeping ??= runtime.sweepTimeouts().finally(() => (sweeping = undefined));
      return sweeping;
    };
    let sweeper: NodeJS.Timeout | undefined;
    let watcher: FSWatcher | undefined;
    let closing: Promise<void> | undefined;

    return {
      config,
      logger,
      server,
      runtime,
      scenarios,
      webchat,
      services,
      readiness,
      sweep,
      async listen() {
        await server.listen({ port: config.port, host: config.host });
        const address = server.server.address();
        const port = typeof address === "object" && address ? address.port : config.port;
        sweeper = setInterval(() => {
          sweep().then(
            (fired) => fired > 0 && logger.info({ fired }, "no-answer timeouts fired"),
            (err: unknown) => logger.error({ err }, "timeout sweep failed; it runs again on the next tick"),
          );
        }, config.sweepIntervalMs);
        if (config.watchScenarios) {
          watcher = scenarios.watch(config.scenariosDir, (file, problems) => reportReload(logger, problems, file));
        }
        const url = `http://${displayHost(config.host)}:${port}`;
        logger.info(
          { url, mode: config.mode, scenario: config.scenarioId, scenarios: scenarios.list().map((s) => s.id), statistics: services.description },
          "botflow serve is listening",
        );
        return { url, chatUrl: `${url}/chat`, dashboardUrl: `${url}/dashboard`, port };
      },
      async reloadScenarios() {
        const problems = await scenarios.reload();
        reportReload(logger, problems);
        return problems;
      },
      close() {
        closing ??= (async () => {
          shuttingDown = true;
          logger.info({}, "shutting down: draining conversations in flight");
          clearInterval(sweeper);
          watcher?.close();
          await sweeping?.catch(() => 0);
          await webchat.close();
          await whatsappCloud?.close();
          await teams?.close();
          await closeAll();
          logger.info({}, "shut down cleanly");
        })();
        return closing;
      },
    };
  } catch (err) {
    await closeAll();
    throw err;
  }
}

async function loadScenarios(scenarios: ScenarioRegistry, config: AppConfig, logger: AppLogger): Promise<void> {
  const dir = config.scenariosDir;
  const info = await stat(dir).catch(() => undefined);
  if (!info?.isDirectory()) throw new ConfigError(`scenario folder ${dir} does not exist: set BOTFLOW_SCENARIOS_DIR to a folder of *.yaml scenarios`);
  const problems = await scenarios.loadDir(dir);
  const errors = problems.filter((p) => p.severity === "error");
  for (const p of problems.filter((p) => p.severity === "warning")) logger.warn({ file: p.file, line: p.line }, formatProblem(p));
  if (errors.length > 0) {
    throw new ConfigError(`scenarios in ${dir} do not load; fix them (botflow validate ${dir} shows the same):\n${errors.map((p) => `  ${formatProblem(p)}`).join("\n")}`);
  }
  const ids = scenarios.list().map((s) => s.id);
  if (ids.length === 0) throw new ConfigError(`no scenario files (*.yaml) in ${dir}: add one, or point BOTFLOW_SCENARIOS_DIR elsewhere`);
  if (!scenarios.get(config.scenarioId)) {
    throw new ConfigError(`BOTFLOW_SCENARIO "${config.scenarioId}" is not a loaded scenario: use one of ${ids.sort().join(", ")}`);
  }
  for (const [channel, id] of Object.entries(config.channelScenarios)) {
    if (!scenarios.get(id)) throw new ConfigError(`BOTFLOW_${channel.toUpperCase()}_SCENARIO "${id}" is not a loaded scenario: use one of ${ids.sort().join(", ")}`);
  }
}

function reportReload(logger: AppLogger, problems: readonly ScenarioProblem[], file?: string): void {
  const errors = problems.filter((p) => p.severity === "error");
  if (errors.length === 0) logger.info({ file }, "scenarios reloaded");
  else for (const p of errors) logger.error({ file: p.file, line: p.line }, `scenario reload failed, previous version kept: ${formatProblem(p)}`);
}

function isLoopback(host: string): boolean {
  return host === "localhost" || host === "::1" || host.startsWith("127.");
}

function displayHost(host: string): string {
  if (host === "0.0.0.0" || host === "::") return "127.0.0.1";
  return host.includes(":") ? `[${host}]` : host;
}
