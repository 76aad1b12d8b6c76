import { describe, expect, it } from "vitest";
import { KeyedQueue } from "../../channels/keyed-queue.ts";

/** A promise the test settles by hand. */
function gate(): { promise: Promise<void>; open: () => void } {
  let open = (): void => {};
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

describe("KeyedQueue", () => {
  it("runs one key's work in order, other keys alongside, and forgets idle keys", async () => {
    const q = new KeyedQueue();
    const log: string[] = [];
    const first = gate();
    const a1 = q.run("a", async () => {
      log.push("a1 start");
      await first.promise;
      log.push("a1 end");
    });
    const a2 = q.run("a", async () => void log.push("a2"));
    const b1 = q.run("b", async () => void log.push("b1"));
    await b1; // "b" does not wait for "a"
    expect(log).toEqual(["a1 start", "b1"]);
    first.open();
    await Promise.all([a1, a2]);
    expect(log).toEqual(["a1 start", "b1", "a1 end", "a2"]);
    await new Promise((r) => setImmediate(r));
    expect(q.size).toBe(0);
  });

  it("reports a failure to its caller and still runs the key's later work", async () => {
    const q = new KeyedQueue();
    const failed = q.run("a", async () => {
      throw new Error("send failed");
    });
    const next = q.run("a", async () => {});
    await expect(failed).rejects.toThrow("send failed");
    await expect(next).resolves.toBeUndefined();
  });
});
