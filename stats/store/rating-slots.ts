/**
 * The numbers survey_dim_day counts rated values under (migration 11): one slot per
 * (scale, score), added the first time a value is folded and never renumbered, so
 * `rated[slot]` sums as a plain aggregate. One instance per store: the slots are that store's
 * table's, and a slot allocated inside a transaction is remembered only once it committed (a
 * rolled-back allocation leaves no number behind that the table does not hold).
 *
 * @example
 * const tx = slots.begin();
 * await db.transaction((q) => applySurveyEvents(q, schema, events, tx));
 * tx.commit();
 */
import type { SqlQueryable } from "./sql-client.ts";

export interface RatedValue {
  scale: string;
  score: number;
}

/** The slots a write transaction used; `commit()` once the transaction committed. */
export interface RatingSlotTx {
  /** The slot of each "scale|score" key, allocating the ones the table lacks inside `q`'s transaction. */
  slotsFor(q: SqlQueryable, schema: string, keys: readonly string[]): Promise<Map<string, number>>;
  commit(): void;
}

interface SlotRow {
  slot: number;
  scale: string;
  score: number;
}

export class RatingSlots {
  private readonly byKey = new Map<string, number>();
  private readonly bySlot = new Map<number, RatedValue>();
  private highest = 0;

  /** The highest slot this instance knows; a row whose `rated` is longer needs `refresh`. */
  get width(): number {
    return this.highest;
  }

  /** The rated value of a slot known to this instance. */
  valueOf(slot: number): RatedValue | undefined {
    return this.bySlot.get(slot);
  }

  /** Reads every committed slot (the table holds one row per rated value ever folded: a few dozen). */
  async refresh(q: SqlQueryable, schema: string): Promise<void> {
    this.remember(await q.query<SlotRow>(`SELECT slot, scale, score FROM ${schema}.survey_rating_slot`));
  }

  begin(): RatingSlotTx {
    let seen: SlotRow[] = [];
    return {
      slotsFor: async (q, schema, keys) => {
        const out = new Map<string, number>();
        const missing: string[] = [];
        for (const k of keys) {
          const slot = this.byKey.get(k);
          if (slot === undefined) missing.push(k);
          else out.set(k, slot);
        }
        if (missing.length === 0) return out;
        const values = missing.map(splitKey);
        // Sorted, so two writers allocating the same new values wait on each other in one order.
        await q.query(
          `INSERT INTO ${schema}.survey_rating_slot (scale, score)
           SELECT scale, score FROM unnest($1::text[], $2::float8[]) AS u(scale, score) ORDER BY 1, 2
           ON CONFLICT (scale, score) DO NOTHING`,
          [values.map((v) => v.scale), values.map((v) => v.score)],
        );
        const rows = await q.query<SlotRow>(
          `SELECT slot, scale, score FROM ${schema}.survey_rating_slot AS sl
           WHERE (sl.scale, sl.score) IN (SELECT * FROM unnest($1::text[], $2::float8[]))`,
          [values.map((v) => v.scale), values.map((v) => v.score)],
        );
        for (const r of rows) out.set(keyOf(r.scale, Number(r.score)), Number(r.slot));
        for (const k of missing) if (!out.has(k)) throw new Error(`rating slot for ${k} not allocated in survey_rating_slot; the batch is retried`);
        seen = seen.concat(rows);
        return out;
      },
      commit: () => {
        this.remember(seen);
        seen = [];
      },
    };
  }

  private remember(rows: readonly SlotRow[]): void {
    for (const r of rows) {
      const slot = Number(r.slot);
      const value = { scale: r.scale, score: Number(r.score) };
      this.byKey.set(keyOf(value.scale, value.score), slot);
      this.bySlot.set(slot, value);
      if (slot > this.highest) this.highest = slot;
    }
  }
}

/** The "scale|score" key the day deltas use (a score's JavaScript text, as apply writes it). */
export function keyOf(scale: string, score: number): string {
  return `${scale}|${score}`;
}

function splitKey(key: string): RatedValue {
  const bar = key.lastIndexOf("|");
  return { scale: key.slice(0, bar), score: Number(key.slice(bar + 1)) };
}
