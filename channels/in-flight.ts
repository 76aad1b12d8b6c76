/**
 * The work a channel has accepted and not finished yet (webhooks being processed, frames being
 * handled), so a graceful shutdown can wait for exactly that before closing the stores.
 *
 * @example
 * const inflight = new InFlight();
 * return inflight.track(this.process(update));   // in the webhook handler
 * await inflight.drain();                        // in close(), after refusing new work
 */
export class InFlight {
  private readonly work = new Set<Promise<unknown>>();

  /** Counts `work` until it settles; returns it unchanged (its rejection stays the caller's). */
  track<T>(work: Promise<T>): Promise<T> {
    this.work.add(work);
    const done = (): void => {
      this.work.delete(work);
    };
    work.then(done, done);
    return work;
  }

  /** Resolves once everything tracked has settled, including work tracked while waiting. */
  async drain(): Promise<void> {
    while (this.work.size > 0) await Promise.allSettled([...this.work]);
  }

  get size(): number {
    return this.work.size;
  }
}
