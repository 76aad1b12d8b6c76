/**
 * BOTFLOW_RETENTION_COMMENTS: surveys whose dialogue started longer ago than the retention period
 * lose their comment texts and identifiers (stats/store/erase-surveys.ts), triggers created that
 * long ago theirs (triggers/erase-triggers.ts); the figures stay what they were. Run on the web
 * process's periodic sweep (app/compose.ts): each call clears at most `maxBatches` batches of each,
 * so one tick never holds the sweep long, and the next tick goes on where it stopped.
 *
 * Safe on several processes at once: each batch takes its rows `FOR UPDATE SKIP LOCKED`, so two
 * processes clear different rows; a row cleared already is out of the sweep's index. When a call
 * finds nothing it rests `idleMs` before looking again (the index probe is cheap, but there is no
 * reason to make it every few seconds).
 *
 * @example
 * const retention = new CommentRetention({ sql: { db: store.sql, schema: store.schema }, retentionMs: 180 * 86_400_000, clock });
 * await retention.sweep(); // → rows cleared
 */
import type { Clock } from "../engine/ports.ts";
import { eraseSurveys } from "../stats/store/erase-surveys.ts";
import { quoteSchema, type SqlClient } from "../stats/store/sql-client.ts";
import { eraseTriggers } from "../triggers/erase-triggers.ts";

export interface CommentRetentionOptions {
  sql: { db: SqlClient; schema: string };
  /** How long comments and identifiers are kept after the dialogue started. */
  retentionMs: number;
  clock: Clock;
  /** Rows per transaction; default 500. */
  batch?: number;
  /** Batches of surveys (and of triggers) per call; default 4. */
  maxBatches?: number;
  /** Rest after a call that cleared nothing; default 60 s. */
  idleMs?: number;
}

export class CommentRetention {
  private readonly schema: string;
  private restUntil = 0;

  constructor(private readonly o: CommentRetentionOptions) {
    this.schema = quoteSchema(o.sql.schema);
  }

  /** Clears what is past the retention period, a few batches at a time; resolves to the rows cleared. */
  async sweep(): Promise<number> {
    const now = this.o.clock.now();
    if (now < this.restUntil) return 0;
    const cutoff = now - this.o.retentionMs;
    const batches = { batch: this.o.batch ?? 500, maxBatches: this.o.maxBatches ?? 4 };
    const cleared =
      (await eraseSurveys(this.o.sql.db, this.schema, { startedBefore: cutoff }, batches)) +
      (await eraseTriggers(this.o.sql.db, this.schema, { createdBefore: cutoff }, batches));
    if (cleared === 0) this.restUntil = now + (this.o.idleMs ?? 60_000);
    return cleared;
  }
}
