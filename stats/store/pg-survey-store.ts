/**
 * The production statistics store: PostgreSQL through a `pg` pool.
 *
 * @example
 * const store = new PgSurveyStore({ connectionString: config.databaseUrl });
 * await store.migrate();
 */
import pg from "pg";
import { systemClock, type Clock } from "../../engine/ports.ts";
import { STORE_RETRY_BACKOFF, type RetryBackoff } from "../retry-backoff.ts";
import { ConnectBackoff } from "./connect-backoff.ts";
import type { SqlClient, SqlQueryable, SqlQueryOptions } from "./sql-client.ts";
import { SqlSurveyStore, type SqlSurveyStoreOptions } from "./sql-survey-store.ts";

export interface PgSurveyStoreOptions extends SqlSurveyStoreOptions {
  /** postgres://user:password@host:port/database (DATABASE_URL). */
  connectionString: string;
  /** Pool size; default 10. */
  maxConnections?: number;
  /** Giving up on opening a connection; default 10 s. */
  connectTimeoutMs?: number;
  /** Giving up on one query (the transaction then rolls back and the job retries); default 60 s. */
  queryTimeoutMs?: number;
  /**
   * After a failed connection attempt, further attempts wait this curve (default
   * STORE_RETRY_BACKOFF: 100–200 ms, doubling, at most 0.5–1 s); meanwhile queries that need a
   * new connection fail at once with ConnectBackoffError instead of knocking again.
   */
  connectBackoff?: RetryBackoff;
}

/**
 * Names for prepared statements, one per distinct text. `pg` keeps what each connection has
 * prepared and refuses one name for two texts, so the name is derived from the text alone.
 */
const statementNames = new Map<string, string>();

function queryConfig(text: string, params: readonly unknown[] | undefined, options: SqlQueryOptions | undefined): pg.QueryConfig {
  const values = params as unknown[] | undefined;
  if (!options?.prepare) return { text, values };
  let name = statementNames.get(text);
  if (name === undefined) statementNames.set(text, (name = `botflow_stats_${statementNames.size + 1}`));
  return { name, text, values };
}

/**
 * The pool's connection class, with every new connection's attempt passed through `connects`:
 * the one place each TCP connection starts, whoever asked the pool for it (a caller that found
 * an idle client, one queued behind others). While `probe.active`, attempts are forced.
 */
function gatedClient(connects: ConnectBackoff, probe: { active: number }): new () => pg.ClientBase {
  return class GatedClient extends pg.Client {
    override connect(): Promise<pg.Client>;
    override connect(callback: ((err: Error) => void) | ((err: null, c: pg.Client) => void)): void;
    override connect(callback?: ((err: Error) => void) | ((err: null, c: pg.Client) => void)): Promise<pg.Client> | void {
      const connected = connects.attempt(() => super.connect(), probe.active > 0);
      if (!callback) return connected;
      const cb = callback as (err: Error | null, c?: pg.Client) => void;
      connected.then(
        (c) => cb(null, c),
        (err: Error) => cb(err),
      );
    }
  };
}

class PgClient implements SqlClient {
  constructor(private readonly pool: pg.Pool) {}

  async query<R>(text: string, params?: readonly unknown[], options?: SqlQueryOptions): Promise<R[]> {
    const client = await this.pool.connect();
    let failed: Error | undefined;
    // As pool.query does: a checked-out client has no pool listener, and a connection dropped
    // mid-query must fail the query, not crash the process with an unhandled 'error' event.
    const onError = (err: Error): void => {
      failed = err;
    };
    client.on("error", onError);
    try {
      const res = await client.query(queryConfig(text, params, options));
      return res.rows as R[];
    } catch (err) {
      // A client whose query failed is not handed out again.
      failed = err instanceof Error ? err : new Error(String(err));
      throw err;
    } finally {
      client.off("error", onError);
      client.release(failed);
    }
  }

  async transaction<T>(fn: (q: SqlQueryable) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    let broken = false;
    // A checked-out client has no pool listener: a connection dropped mid-transaction (restart,
    // failover, network) would be an unhandled 'error' event and take the process down.
    const onError = (): void => {
      broken = true;
    };
    client.on("error", onError);
    try {
      await client.query("BEGIN");
      const q: SqlQueryable = {
        query: async <R>(text: string, params?: readonly unknown[], options?: SqlQueryOptions) => (await client.query(queryConfig(text, params, options))).rows as R[],
      };
      const result = await fn(q);
      await client.query("COMMIT");
      return result;
    } catch (err) {
      try {
        await client.query("ROLLBACK");
      } catch {
        broken = true; // the connection is gone; do not hand it out again
      }
      throw err;
    } finally {
      client.off("error", onError);
      client.release(broken);
    }
  }

  close(): Promise<void> {
    return this.pool.end();
  }
}

export class PgSurveyStore extends SqlSurveyStore {
  /** Connection attempts and their backoff; `failures > 0` while PostgreSQL cannot be reached. */
  readonly connects: ConnectBackoff;
  private readonly probe: { active: number };

  constructor(o: PgSurveyStoreOptions) {
    // Timeouts and TCP keepalive: a network that silently drops packets must fail the write (so
    // the job retries elsewhere) instead of hanging it while the worker keeps renewing its lock.
    const connects = new ConnectBackoff({ backoff: o.connectBackoff ?? STORE_RETRY_BACKOFF, clock: o.clock ?? systemClock, what: "PostgreSQL" });
    const probe = { active: 0 };
    const pool = new pg.Pool({
      Client: gatedClient(connects, probe),
      connectionString: o.connectionString,
      max: o.maxConnections ?? 10,
      connectionTimeoutMillis: o.connectTimeoutMs ?? 10_000,
      query_timeout: o.queryTimeoutMs ?? 60_000,
      keepAlive: true,
      keepAliveInitialDelayMillis: 10_000,
      // No JIT: the statistics' statements are short aggregates, and compiling one cost more than
      // running it (1 s of a 2 s grouped figures query over 10 M surveys; bench/README.md).
      options: "-c jit=off",
    });
    // An idle client losing its connection must not crash the process; the next query reconnects.
    pool.on("error", () => {});
    super(new PgClient(pool), o);
    this.connects = connects;
    this.probe = probe;
  }

  /**
   * Resolves when PostgreSQL answers `select 1`. The worker's outage probe: it has its own
   * backoff, so it connects even while other callers' attempts are backing off, and a success
   * ends their wait too.
   */
  async ping(): Promise<void> {
    // Connections opened while the probe waits for one are forced (the pool may open it a tick later).
    this.probe.active++;
    try {
      await this.db.query("select 1");
    } finally {
      this.probe.active--;
    }
  }
}
