/**
 * The little the shared store code needs of a PostgreSQL connection, so `pg` and PGlite run
 * the same SQL. Rows come back as plain objects; queries cast numbers to float8 and times to
 * epoch milliseconds so both drivers return JavaScript numbers.
 */
export interface SqlQueryable {
  query<R = Record<string, unknown>>(text: string, params?: readonly unknown[], options?: SqlQueryOptions): Promise<R[]>;
}

export interface SqlQueryOptions {
  /**
   * A statement run again and again with the same text (the write path): the `pg` driver
   * prepares it once per connection and then only binds, sparing the server a parse and plan
   * per batch. Drivers without named statements ignore it.
   */
  prepare?: boolean;
}

export interface SqlClient extends SqlQueryable {
  /** Runs `fn` in one transaction (READ COMMITTED); rolls back when it throws. */
  transaction<T>(fn: (q: SqlQueryable) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/** Checks a schema name and returns it quoted for SQL text. */
export function quoteSchema(schema: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]{0,62}$/.test(schema)) {
    throw new Error(`invalid statistics schema name "${schema}": use letters, digits and _ (at most 63), starting with a letter or _`);
  }
  return `"${schema}"`;
}
