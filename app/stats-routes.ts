/**
 * The statistics HTTP API the dashboard reads (and scripts may too), behind the token when
 * one is configured:
 *
 *   GET /api/stats/figures?from&to&tz&scenario&channel&bot        the CSAT figures (stats/figures.ts)
 *       &dim.<name>=value   only surveys with that dimension value (dim.agent=olena, dim.tags=vip)
 *       &compare=previous   also the period of the same length just before, and the change
 *       &group_by=<name>    the figures of each value of one dimension instead (&limit groups)
 *   GET /api/stats/dialogues?…&surveysOnly&trigger&limit&cursor   one page of the dialogue list
 *   GET /api/stats/export.csv?…&surveysOnly&trigger               the whole list as CSV, streamed
 *   GET /api/stats/options                                        scenarios, channels and groupable dimensions
 *
 * `from`/`to` are days (YYYY-MM-DD, `to` included) or ISO timestamps, as in `botflow stats`.
 * `trigger` is a trigger API call's id (1–200 of A-Z a-z 0-9 _ . @ + -; `+` sent as %2B): only
 * the dialogue it started. Rows carry `triggerId` and `context` (its start variables), null
 * when the user started the dialogue; the CSV ends in `trigger_id` and `context` (JSON).
 * Every parameter is checked (stats/query-params.ts): a bad one, or an unknown one, is answered
 * 400 `{error: "bad_request", parameter, message}` — never 503, which means the store is down.
 * The figures cover at most ten years with a trend of at most ~120 points; a dialogue page
 * holds at most 500 rows; the export is read and sent 1,000 rows at a time.
 */
import { Readable } from "node:stream";
import type { FastifyInstance, FastifyReply } from "fastify";
import type { Logger } from "../engine/ports.ts";
import type { Figures, GroupedFigures } from "../stats/figures.ts";
import type { DialogueQuery, SurveyStore } from "../stats/store/survey-store.ts";
import { requireAuth, type Auth } from "./auth.ts";
import { DIALOGUE_CSV_HEADER, dialogueCsvLine } from "./dialogue-csv.ts";
import { dialogueQuery, exportQuery, figuresQuery, isGrouped, type ParsedQuery, type QueryParams } from "../stats/query-params.ts";

export interface StatsRoutesOptions {
  store: SurveyStore;
  auth: Auth;
  logger: Logger;
  /** What the dashboard offers as filters. */
  /** `dimensions`: the rolled-up survey dimensions the loaded scenarios declare (what figures group by). */
  filterOptions(): { scenarios: { id: string; name: string }[]; channels: string[]; dimensions: string[] };
}

const EXPORT_PAGE = 1000;

export async function statsRoutes(app: FastifyInstance, o: StatsRoutesOptions): Promise<void> {
  await app.register(async (scope) => {
    scope.addHook("preHandler", requireAuth(o.auth, "/dashboard/login"));
    scope.addHook("onSend", async (_req, reply) => void reply.header("cache-control", "no-store"));

    scope.get("/api/stats/options", async () => o.filterOptions());

    scope.get("/api/stats/figures", async (req, reply) => {
      const q = figuresQuery(req.query as QueryParams);
      if (!q.ok) return badRequest(reply, q);
      const query = q.query;
      return run<Figures | GroupedFigures>(reply, () => (isGrouped(query) ? o.store.groupedFigures(query) : o.store.figures(query)));
    });

    scope.get("/api/stats/dialogues", async (req, reply) => {
      const q = dialogueQuery(req.query as QueryParams);
      if (!q.ok) return badRequest(reply, q);
      return run(reply, () => o.store.listDialogues(q.query));
    });

    scope.get("/api/stats/export.csv", async (req, reply) => {
      const q = exportQuery(req.query as QueryParams);
      if (!q.ok) return badRequest(reply, q);
      const store = o.store;
      const query: DialogueQuery = q.query;
      // The first page is read before answering, so a bad query or a down store is a clean error.
      const first = await run(reply, () => store.listDialogues({ ...query, limit: EXPORT_PAGE }));
      if (reply.sent || !first || !("rows" in first)) return first;
      // Pulled by the response stream: the next page is read only when the client took the last.
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
      const message = err instanceof Error ? err.message : String(err);
      const { code, parameter } = err as { code?: unknown; parameter?: unknown };
      if (code === "STATS_QUERY_INVALID") return badRequest(reply, { parameter: typeof parameter === "string" ? parameter : "query", message });
      // SQLSTATE class 22 (data exception): the store refused a value the checks let through.
      // Still the caller's input, not an outage.
      if (typeof code === "string" && code.startsWith("22")) return badRequest(reply, { parameter: "query", message: `the statistics store refused a value: ${message}` });
      o.logger.error({ err: message }, "statistics query failed");
      return reply.code(503).send({ error: "unavailable", message: "the statistics store did not answer; see the server log and /readyz" });
    }
  }
}

function badRequest(reply: FastifyReply, problem: Extract<ParsedQuery<unknown>, { ok: false }> | { parameter: string; message: string }) {
  return reply.code(400).send({ error: "bad_request", parameter: problem.parameter, message: problem.message });
}
