/**
 * The statistics HTTP API the dashboard reads (and scripts may too), behind the token when
 * one is configured:
 *
 *   GET /api/stats/figures?from&to&tz&scenario&channel&bot     the CSAT figures (stats/figures.ts)
 *   GET /api/stats/dialogues?…&surveysOnly&limit&cursor        one page of the dialogue list
 *   GET /api/stats/export.csv?…&surveysOnly                    the whole list as CSV, streamed
 *   GET /api/stats/options                                     scenarios and channels to filter by
 *
 * `from`/`to` are days (YYYY-MM-DD, `to` included) or ISO timestamps, as in `botflow stats`.
 */
import { Readable } from "node:stream";
import type { FastifyInstance, FastifyReply } from "fastify";
import type { Logger } from "../engine/ports.ts";
import type { DialogueQuery, SurveyStore } from "../stats/store/survey-store.ts";
import { requireAuth, type Auth } from "./auth.ts";
import { DIALOGUE_CSV_HEADER, dialogueCsvLine } from "./dialogue-csv.ts";
import { dialogueQuery, figuresQuery, type QueryParams } from "../stats/query-params.ts";

export interface StatsRoutesOptions {
  store: SurveyStore;
  auth: Auth;
  logger: Logger;
  /** What the dashboard offers as filters. */
  filterOptions(): { scenarios: { id: string; name: string }[]; channels: string[] };
}

const EXPORT_PAGE = 1000;

export async function statsRoutes(app: FastifyInstance, o: StatsRoutesOptions): Promise<void> {
  await app.register(async (scope) => {
    scope.addHook("preHandler", requireAuth(o.auth, "/dashboard/login"));
    scope.addHook("onSend", async (_req, reply) => void reply.header("cache-control", "no-store"));

    scope.get("/api/stats/options", async () => o.filterOptions());

    scope.get("/api/stats/figures", async (req, reply) => {
      const q = figuresQuery(req.query as QueryParams);
      if (typeof q === "string") return badRequest(reply, q);
      return run(reply, () => o.store.figures(q));
    });

    scope.get("/api/stats/dialogues", async (req, reply) => {
      const q = dialogueQuery(req.query as QueryParams);
      if (typeof q === "string") return badRequest(reply, q);
      return run(reply, () => o.store.listDialogues({ limit: 50, ...q }));
    });

    scope.get("/api/stats/export.csv", async (req, reply) => {
      const q = dialogueQuery(req.query as QueryParams);
      if (typeof q === "string") return badRequest(reply, q);
      const store = o.store;
      const query: DialogueQuery = q;
      // The first page is read before answering, so a bad query or a down store is a clean error.
      const first = await run(reply, () => store.listDialogues({ ...q, limit: EXPORT_PAGE }));
      if (reply.sent || !first || !("rows" in first)) return first;
      async function* lines() {
        yield `${DIALOGUE_CSV_HEADER}\r\n`;
        let page = first as Awaited<ReturnType<SurveyStore["listDialogues"]>>;
        for (;;) {
          if (page.rows.length > 0) yield page.rows.map((r) => `${dialogueCsvLine(r)}\r\n`).join("");
          if (!page.nextCursor) return;
          page = await store.listDialogues({ ...query, limit: EXPORT_PAGE, cursor: page.nextCursor });
        }
      }
      const day = new Date().toISOString().slice(0, 10);
      return reply
        .type("text/csv; charset=utf-8")
        .header("content-disposition", `attachment; filename="botflow-dialogues-${day}.csv"`)
        .send(Readable.from(lines()));
    });
  });

  async function run<T>(reply: FastifyReply, fn: () => Promise<T>): Promise<T | FastifyReply> {
    try {
      return await fn();
    } catch (err) {
      const code = (err as { code?: unknown }).code;
      const message = err instanceof Error ? err.message : String(err);
      if (code === "STATS_QUERY_INVALID") return badRequest(reply, message);
      o.logger.error({ err: message }, "statistics query failed");
      return reply.code(503).send({ error: "unavailable", message: "the statistics store did not answer; see the server log and /readyz" });
    }
  }
}

function badRequest(reply: FastifyReply, message: string) {
  return reply.code(400).send({ error: "bad_request", message });
}
