/**
 * Waits for `work` at most `ms`: its value, or `{ ok: false }` once the time is up (the work goes
 * on; the caller decides what a late answer means). The timer is cleared when the work ends
 * first and never keeps the process alive. The one bounded wait of the shutdown, the metrics
 * scrape and the readiness checks.
 *
 * @example
 * const closed = await within(outbox.close(), 10_000);
 * if (!closed.ok) log.warn({}, "the outbox did not close in time");
 */
export async function within<T>(work: Promise<T>, ms: number): Promise<{ ok: true; value: T } | { ok: false }> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<{ ok: false }>((resolve) => {
    timer = setTimeout(() => resolve({ ok: false }), ms);
    timer.unref();
  });
  try {
    return await Promise.race([work.then((value) => ({ ok: true as const, value })), late]);
  } finally {
    clearTimeout(timer);
  }
}
