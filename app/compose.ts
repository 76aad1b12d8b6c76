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
import { within } from "../engine/within.ts";
import type { FastifyInstance } from "fastify";
import { createActionRegistry } from "../actions/index.ts";
import { openActionSetup } from "./action-setup.ts";
import { ConfigError, errorSummary, formatProblem, type ScenarioProblem } from "../engine/errors.ts";
import { systemClock, type Clock } from "../engine/ports.ts";
import { ScenarioRegistry } from "../engine/registry.ts";
import { Runtime } from "../engine/runtime.ts";
import { SurveyTracker } from "../stats/survey-tracker.ts";
import { CHANNEL_MODULES, scenarioVariable, type ChannelInstance } from "../channels/index.ts";
import type { Channel } from "../channels/port.ts";
import { createAppMetrics } from "./app-metrics.ts";
import { createAuth, requireAuth } from "./auth.ts";
import type { WebhookPolicy } from "../channels/webhook-route.ts";
import { dashboardRoutes } from "./dashboard-routes.ts";
import { queueRoutes } from "./queue-routes.ts";
import { triggerRoutes } from "./trigger-routes.ts";
import { webhookRoutes } from "./webhook-routes.ts";
import { TriggerService } from "../triggers/trigger-service.ts";
import type { Outbox } from "../triggers/outbox.ts";
import { statsRoutes } from "./stats-routes.ts";
import { userRoutes } from "./user-routes.ts";
import { UserErasure } from "./user-erasure.ts";
import { CommentRetention } from "./comment-retention.ts";
import { SqlSurveyStore } from "../stats/store/sql-survey-store.ts";
import { BullmqSurveyQueue } from "../stats/queue/bullmq-survey-queue.ts";
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
  /** Test seams by channel name, handed to that channel's module (a fake client factory, so no browser launches). */
  channelSeams?: Readonly<Record<string, unknown>>;
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
  /** The enabled channels, in channels/index.ts order. */
  channels: readonly Channel[];
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
  // Each stage of a shutdown is waited for at most the shutdown timeout: one that hangs (a
  // connection stuck reconnecting) is named in the log and the others still close.
  const stage = (name: string, run: () => Promise<void>) => closeStage(logger, name, config.shutdownTimeoutMs, run);
  const closeAll = async () => {
    for (const c of closers.reverse()) await stage("a service", c);
  };
  try {
    // Scenarios are checked before any service opens: a typo in a scenario costs no connection.
    // The action needs the queue only when it runs, so it reaches it through `surveys`.
    let services: Services | undefined;
    let outbox: Outbox | undefined;
    let instances: ChannelInstance[] = [];
    // Each channel closes once, whether shutdown or a failed start gets there first.
    const channelClosing = new Map<Channel, Promise<void>>();
    const closeChannel = (c: Channel): Promise<void> => {
      const closing = channelClosing.get(c) ?? c.close();
      channelClosing.set(c, closing);
      return closing;
    };
    const gauge = (name: string) => instances.reduce((n, i) => n + (i.gauges?.()[name] ?? 0), 0);
    const metrics = createAppMetrics({
      queueCounts: () => (services ? services.queueCounts() : Promise.resolve({})),
      jobLatency: () => (services ? services.jobLatency() : Promise.resolve({ oldestWaitingSeconds: 0, recentSeconds: [] })),
      openSockets: () => gauge("sockets"),
      triggerCounts: async () => ({ ...(await (outbox ? outbox.counts() : Promise.resolve({}))) }),
      storeChecks: () => services?.checks ?? [],
    });
    const surveys: SurveyQueue = instrumentedQueue(() => (services as Services).surveys, metrics);
    const actionSetup = await openActionSetup(config.actions, { logger });
    const actions = createActionRegistry({ surveys, ...actionSetup });
    if (actionSetup.custom.length > 0) logger.info({ actions: actionSetup.custom.map((a) => a.name) }, "custom actions loaded (BOTFLOW_ACTIONS)");
    const enabled = CHANNEL_MODULES.filter((m) => config.channels[m.name] !== undefined);
    const scenarios = new ScenarioRegistry({ actions: actions.specs(), channels: enabled.map((m) => m.limits) });
    await loadScenarios(scenarios, config, logger);

    services = await openServices(config, { clock, logger, ...(options.surveyStore ? { surveyStore: options.surveyStore } : {}) });
    const opened = services;
    closers.push(() => opened.close());
    const checks: ReadinessCheck[] = services.checks;

    for (const m of enabled) {
      const scenarioId = config.channelScenarios[m.name];
      const seams = options.channelSeams?.[m.name];
      const instance = await m.create(config.channels[m.name], {
        logger,
        storage: opened.channelStorage.scope(`${m.name}:`),
        ...(opened.redis ? { redis: opened.redis } : {}),
        keyPrefix: `${config.statePrefix}${m.name}:`,
        ...(scenarioId !== undefined ? { scenarioId } : {}),
        ...(seams !== undefined ? { seams } : {}),
      });
      instances = [...instances, instance];
      closers.push(() => closeChannel(instance.channel));
    }
    const channels = instances.map((i) => i.channel);

    const runtime = new Runtime({
      scenarios,
      store: services.state,
      delivery: new ChannelDelivery(channels, {
        logger,
        limiter: opened.rateLimiter,
        onDelivered: (channel, effects) => {
          for (const e of effects) metrics.effects.inc({ channel, type: e.type });
        },
      }),
      actions: instrumentedActions(actions, metrics),
      tracker: new SurveyTracker(surveys),
      defaultScenarioId: config.scenarioId,
      clock,
      logger,
    });
    // Client channels start their client here (a login QR may come later); a channel may check its credentials before the server listens.
    const handle = instrumentedHandler((e) => runtime.handle(e), metrics);
    for (const channel of channels) await channel.start(handle);

    // The trigger API: a helpdesk asks for a survey; the outbox sends it, paced (issue 12).
    const triggerStore = opened.triggerStore;
    const triggerOutbox = opened.openOutbox(channels.map((c) => c.name));
    outbox = triggerOutbox;
    const triggers = triggerStore
      ? new TriggerService({
          store: triggerStore,
          outbox: triggerOutbox,
          knownChannels: CHANNEL_MODULES.map((m) => m.name),
          channel: (name) => channels.find((c) => c.name === name),
          scenario: (id) => scenarios.get(id),
          handle,
          clock,
          logger,
        })
      : undefined;
    if (triggers) {
      triggerOutbox.start({ handle: (job) => triggers.send(job.id), failed: (job, reason) => triggers.failed(job.id, reason) });
      // The embedded outbox lives in memory: every scheduled trigger goes back in (in production a harmless re-add).
      const recovered = await triggers.recover(RECOVER_HORIZON_MS);
      if (recovered > 0) logger.info({ triggers: recovered }, "scheduled triggers handed to the outbox");
    }

    // A person's erasure and the comment retention work on the SQL store (absent only with a test's stand-in store).
    const sqlStore = opened.surveyStore instanceof SqlSurveyStore ? { db: opened.surveyStore.sql, schema: opened.surveyStore.schema } : undefined;
    const queues = opened.surveys instanceof BullmqSurveyQueue ? { queues: { jobs: opened.surveys.queue, dead: opened.surveys.dead.queue } } : {};
    const erasure = sqlStore ? new UserErasure({ sql: sqlStore, state: opened.state, channelStorage: opened.channelStorage, modules: CHANNEL_MODULES, ...queues, logger }) : undefined;
    const retention = sqlStore && config.retentionCommentsMs !== undefined ? new CommentRetention({ sql: sqlStore, retentionMs: config.retentionCommentsMs, clock }) : undefined;

    let shuttingDown = false;
    const readiness = async (): Promise<ReadinessReport> => {
      if (shuttingDown) return { ready: false, checks: [{ name: "process", ok: false, error: "shutting down" }] };
      return checkReadiness(checks);
    };
    const auth = createAuth(config.token);
    const webhook: WebhookPolicy = { deadlineMs: config.webhookDeadlineMs, onDrop: (channel, reason) => metrics.inboundDropped.inc({ channel, reason }) };
    if (!auth.enabled && !isLoopback(config.host)) {
      logger.warn({ host: config.host }, "the dashboard, statistics API and /metrics are open to anyone who reaches this address: set BOTFLOW_TOKEN");
    }
    const server = await buildServer({
      logger,
      readiness,
      home: "/chat",
      onResponse: (r) => metrics.http.observe({ method: r.method, route: r.route, status: String(r.status) }, r.seconds),
      mounts: [
        ...instances.flatMap((i) => (i.routes ? [(app: FastifyInstance) => (i.routes as NonNullable<ChannelInstance["routes"]>)(app, { logger, guard: requireAuth(auth, "/dashboard/login"), webhook })] : [])),
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
              dimensions: [...new Set(scenarios.list().flatMap((s) => (s.dimensions ?? []).filter((d) => d.group).map((d) => d.name)))].sort(),
            }),
          }),
        (app) => dashboardRoutes(app, { auth }),
        (app) => queueRoutes(app, { services: opened, auth, mode: config.mode === "production" ? "BullMQ" : "in-process", logger }),
        ...(triggers ? [(app: FastifyInstance) => triggerRoutes(app, { triggers, auth, clock, logger })] : []),
        ...(opened.webhooks ? [(app: FastifyInstance) => webhookRoutes(app, { webhooks: opened.webhooks as NonNullable<Services["webhooks"]>, auth })] : []),
        ...(erasure ? [(app: FastifyInstance) => userRoutes(app, { erasure, channels: CHANNEL_MODULES.map((m) => m.name), auth, logger })] : []),
      ],
    });
    closers.push(() => server.close());

    let sweeping: Promise<number> | undefined;
    /** Due no-answer timeouts, then triggered surveys past their expiry (each closed as declined), then comments past their retention. */
    const sweep = (): Promise<number> => {
      sweeping ??= (async () => (await runtime.sweepTimeouts()) + (triggers ? await triggers.expire() : 0) + (retention ? await retention.sweep() : 0))().finally(() => (sweeping = undefined));
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
      channels,
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
          // No first message starts once channels begin to drain; a trigger not sent yet waits in the outbox.
          await stage("the trigger outbox", () => triggerOutbox.close());
          // Every channel refuses new input and drains before the stores it writes to close.
          for (const channel of channels) await stage(`the ${channel.name} channel`, () => closeChannel(channel));
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

/**
 * Runs one stage of a shutdown, waiting at most `timeoutMs`: an error is logged, and a stage
 * still running then is logged by name and left behind, so the rest of the shutdown goes on.
 */
async function closeStage(logger: AppLogger, name: string, timeoutMs: number, run: () => Promise<void>): Promise<void> {
  const done = run().catch((err: unknown) => logger.error({ err: errorSummary(err) }, `${name} did not close cleanly`));
  if (!(await within(done, timeoutMs)).ok) logger.error({ timeoutMs }, `${name} did not close within the shutdown timeout; going on without it`);
}

/** How far ahead scheduled triggers are handed to the outbox at start: all of them (a trigger is at most a year ahead). */
const RECOVER_HORIZON_MS = 367 * 86_400_000;

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
    if (!scenarios.get(id)) throw new ConfigError(`${scenarioVariable(channel)} "${id}" is not a loaded scenario: use one of ${ids.sort().join(", ")}`);
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
