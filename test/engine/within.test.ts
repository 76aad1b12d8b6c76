import { describe, expect, it } from "vitest";
import { within } from "../../engine/within.ts";

describe("within", () => {
  it("gives the work's value when it ends in time, and passes its rejection on", async () => {
    expect(await within(Promise.resolve(7), 1_000)).toEqual({ ok: true, value: 7 });
    await expect(within(Promise.reject(new Error("refused")), 1_000)).rejects.toThrow("refused");
  });

  it("says the time is up when the work is still running after ms, without waiting for it", async () => {
    const began = Date.now();
    expect(await within(new Promise(() => {}), 50)).toEqual({ ok: false });
    expect(Date.now() - began).toBeLessThan(1_000);
  });
});
