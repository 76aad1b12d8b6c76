/**
 * The policies every channel shares, written once under channels/ and engine/errors.ts: the retry
 * helper (full jitter under a doubling cap, retry_after honoured, bounded attempts), the secret
 * comparison, and the log summary of an error.
 */
import { describe, expect, it } from "vitest";
import { ChannelError, ConversationBusyError, LockLostError, StoreUnavailableError, errorSummary, isRetryLater } from "../../engine/errors.ts";
import { backoffCeilingMs, backoffMs, retry } from "../../channels/retry.ts";
import { sameSecret } from "../../channels/secret.ts";

describe("retry", () => {
  const policy = { attempts: 4, baseMs: 100, capMs: 1_000 };

  it("draws each pause from 0 up to a doubling ceiling, capped", () => {
    expect([1, 2, 3, 4, 5].map((n) => backoffCeilingMs(n, policy))).toEqual([100, 200, 400, 800, 1000]);
    expect(backoffMs(3, policy, () => 0)).toBe(0);
    expect(backoffMs(3, policy, () => 0.5)).toBe(200);
    expect(backoffMs(3, policy, () => 1)).toBe(400);
    for (let i = 0; i < 200; i++) expect(backoffMs(6, policy)).toBeLessThanOrEqual(1_000);
  });

  it("honours a retry_after longer than the jittered pause, up to the cap", () => {
    expect(backoffMs(1, policy, () => 0, 700)).toBe(700);
    expect(backoffMs(1, policy, () => 0, 60_000)).toBe(1_000);
  });

  it("retries until the attempts run out, then rejects with the last error", async () => {
    const pauses: number[] = [];
    let calls = 0;
    const err = await retry(
      async () => {
        calls++;
        throw new Error(`failure ${calls}`);
      },
      { ...policy, sleep: async (ms) => void pauses.push(ms), random: () => 1 },
    ).catch((e: unknown) => e);
    expect((err as Error).message).toBe("failure 4");
    expect(calls).toBe(4);
    expect(pauses).toEqual([100, 200, 400]);
  });

  it("stops at once on an error that is not retryable, or when the caller stopped", async () => {
    let calls = 0;
    const fail = async () => {
      calls++;
      throw new ChannelError("fake", "send", "refused", { status: 400 });
    };
    await expect(retry(fail, { ...policy, retryable: (e) => e instanceof ChannelError && e.retryable, sleep: async () => {} })).rejects.toThrow("refused");
    expect(calls).toBe(1);
    await expect(retry(fail, { ...policy, stopped: () => true, sleep: async () => {} })).rejects.toThrow("refused");
    expect(calls).toBe(2);
  });

  it("takes the wait the far side asked for from the error", async () => {
    const pauses: number[] = [];
    let calls = 0;
    const value = await retry(
      async () => {
        if (calls++ === 0) throw new ChannelError("fake", "send", "429", { status: 429, retryable: true, retryAfterMs: 750 });
        return "sent";
      },
      { ...policy, retryAfterMs: (e) => (e instanceof ChannelError ? e.retryAfterMs : undefined), sleep: async (ms) => void pauses.push(ms), random: () => 0 },
    );
    expect(value).toBe("sent");
    expect(pauses).toEqual([750]);
  });
});

describe("sameSecret", () => {
  it("is true only for the same secret, whatever the lengths, and false for anything not a string", () => {
    expect(sameSecret("s3cret-token", "s3cret-token")).toBe(true);
    expect(sameSecret("s3cret-token", Buffer.from("s3cret-token"))).toBe(true);
    expect(sameSecret("s3cret-toke", "s3cret-token")).toBe(false);
    expect(sameSecret("s3cret-tokenx", "s3cret-token")).toBe(false);
    expect(sameSecret("", "s3cret-token")).toBe(false);
    expect(sameSecret(undefined, "s3cret-token")).toBe(false);
    expect(sameSecret(["s3cret-token"], "s3cret-token")).toBe(false);
  });
});

describe("errors", () => {
  it("says 'try again later' for a busy conversation, a lost lock and a store away, by class and code", () => {
    expect(isRetryLater(new ConversationBusyError("telegram::1"))).toBe(true);
    expect(isRetryLater(new LockLostError("telegram::1"))).toBe(true);
    expect(isRetryLater(new StoreUnavailableError("Redis"))).toBe(true);
    expect(isRetryLater(new ChannelError("telegram", "webhook", "closing", { status: 503, retryable: true }))).toBe(true);
    // A message that merely mentions the code is not the error.
    expect(isRetryLater(new Error("CONVERSATION_BUSY"))).toBe(false);
    expect(isRetryLater(new ChannelError("telegram", "sendMessage", "Bad Request", { status: 400 }))).toBe(false);
  });

  it("summarises an error for a log without tokens, passwords or the user's comment", () => {
    const token = "7012345678:AAE-test_Token_0123456789abcdefXYZ";
    const err = new Error(`request to https://api.telegram.org/bot${token}/sendMessage failed; Authorization: Bearer EAAGsecretgraphtoken123; redis://user:hunter2@db:6379; the comment was Quick and friendly`);
    const s = errorSummary(err, { quality_comment: "Quick and friendly" });
    expect(s.name).toBe("Error");
    expect(s.message).not.toContain(token);
    expect(s.message).not.toContain("EAAGsecretgraphtoken123");
    expect(s.message).not.toContain("hunter2");
    expect(s.message).not.toContain("Quick and friendly");
    expect(JSON.stringify(s)).not.toContain("stack");
  });

  it("keeps the code, status and method an error carries, and bounds the message", () => {
    const grammy = Object.assign(new Error("Call to 'sendMessage' failed! (403: Forbidden: bot was blocked by the user)"), {
      name: "GrammyError",
      error_code: 403,
      description: "Forbidden: bot was blocked by the user",
      method: "sendMessage",
    });
    expect(errorSummary(grammy)).toEqual({ name: "GrammyError", message: "Forbidden: bot was blocked by the user", status: 403, method: "sendMessage" });
    expect(errorSummary(new ConversationBusyError("webchat::x"))).toMatchObject({ name: "ConversationBusyError", code: "CONVERSATION_BUSY" });
    expect(errorSummary(new Error("x".repeat(5_000))).message.length).toBeLessThanOrEqual(300);
    expect(errorSummary("plain")).toEqual({ name: "Error", message: "plain" });
  });
});
