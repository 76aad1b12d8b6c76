/**
 * Runs work one at a time per key (a conversation) inside this process, in the order it was
 * queued; different keys run side by side. A failure is the caller's and does not stop the
 * key's later work. Keys with nothing queued are forgotten, so the map stays small.
 *
 * @example
 * await queue.run(conversationId, () => send(messages));
 */
export class KeyedQueue {
  private readonly tails = new Map<string, Promise<void>>();

  /** Runs `fn` after every earlier `run` of `key` settled; resolves or rejects as `fn` does. */
  run(key: string, fn: () => Promise<void>): Promise<void> {
    const run = (this.tails.get(key) ?? Promise.resolve()).then(fn);
    const tail = run.catch(() => {});
    this.tails.set(key, tail);
    void tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
    return run;
  }

  /** Keys with work queued or running. */
  get size(): number {
    return this.tails.size;
  }
}
