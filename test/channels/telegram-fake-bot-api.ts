/**
 * A local fake of the Telegram Bot API on 127.0.0.1: answers getMe, sendMessage,
 * answerCallbackQuery, editMessageReplyMarkup, deleteWebhook and getUpdates (long polling from
 * a queue the test fills) like Telegram does, records every call, and fails the calls a test
 * queues failures for (429 with retry_after, 5xx). With `sendMessagesPerSecond` it also enforces a
 * bot-wide limit as Telegram does: a sendMessage beyond that many in any sliding second is
 * answered 429 with `retry_after`, and counted in `rateLimited`.
 *
 * @example
 * const api = await new FakeBotApi(token, { sendMessagesPerSecond: 30 }).start();
 * // … after the run: api.rateLimited === 0 means the bot never went over 30 a second
 */
import { EventEmitter } from "node:events";
import { readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Update } from "grammy/types";

export interface RecordedCall {
  method: string;
  payload: Record<string, unknown>;
  /** ms since the fake started, to check retry_after was waited out. */
  at: number;
  /** What the fake answered: 200, or the queued failure's status. */
  status: number;
}

export interface QueuedFailure {
  status: number;
  description: string;
  retryAfter?: number;
  /** Only calls whose payload this accepts fail (default every call of the method). */
  when?: (payload: Record<string, unknown>) => boolean;
}

export interface FakeBotApiOptions {
  /** Answer sendMessage 429 beyond this many accepted in any sliding 1-second window (default: no limit). */
  sendMessagesPerSecond?: number;
}

export const BOT_USER = { id: 7012345678, is_bot: true, first_name: "Botflow Test", username: "botflow_test_bot", can_join_groups: true, can_read_all_group_messages: false, supports_inline_queries: false };

export class FakeBotApi {
  readonly calls: RecordedCall[] = [];
  /** Per method: failures answered before the next successes. */
  readonly failures = new Map<string, QueuedFailure[]>();
  private readonly updates: Update[] = [];
  private readonly events = new EventEmitter();
  private readonly started = Date.now();
  private server: Server | undefined;
  private messageId = 5000;
  /** Arrival times (performance.now()) of the sendMessage calls accepted in the last second, oldest first. */
  private readonly window: number[] = [];
  private windowStart = 0;
  /** sendMessage calls answered 429 by the `sendMessagesPerSecond` limit (queued failures not counted). */
  rateLimited = 0;
  apiRoot = "";

  constructor(
    readonly token: string,
    readonly options: FakeBotApiOptions = {},
  ) {
    this.events.setMaxListeners(100);
  }

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        const m = /^\/bot([^/]+)\/([A-Za-z]+)$/.exec(req.url ?? "");
        const send = (status: number, body: unknown) => {
          if (res.destroyed) return;
          res.writeHead(status, { "content-type": "application/json" });
          res.end(JSON.stringify(body));
        };
        if (!m || m[1] !== this.token) return send(401, { ok: false, error_code: 401, description: "Unauthorized" });
        const method = m[2] as string;
        const raw = Buffer.concat(chunks).toString("utf8");
        const payload = raw === "" ? {} : (JSON.parse(raw) as Record<string, unknown>);
        const queued = this.failures.get(method) ?? [];
        const at_ = queued.findIndex((f) => !f.when || f.when(payload));
        const failure = at_ >= 0 ? queued.splice(at_, 1)[0] : undefined;
        const at = Date.now() - this.started;
        if (failure) {
          this.record({ method, payload, at, status: failure.status });
          return send(failure.status, {
            ok: false,
            error_code: failure.status,
            description: failure.description,
            ...(failure.retryAfter !== undefined ? { parameters: { retry_after: failure.retryAfter } } : {}),
          });
        }
        if (method === "getUpdates") return void this.getUpdates(payload, res, (body) => send(200, body));
        const retryAfter = method === "sendMessage" ? this.overLimit() : undefined;
        if (retryAfter !== undefined) {
          this.rateLimited++;
          this.record({ method, payload, at, status: 429 });
          return send(429, { ok: false, error_code: 429, description: `Too Many Requests: retry after ${retryAfter}`, parameters: { retry_after: retryAfter } });
        }
        this.record({ method, payload, at, status: 200 });
        send(200, { ok: true, result: this.result(method, payload) });
      });
    });
    await new Promise<void>((resolve) => this.server?.listen(0, "127.0.0.1", resolve));
    this.apiRoot = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  /** Queues `failure` for the next call of `method`. */
  fail(method: string, failure: QueuedFailure): void {
    const list = this.failures.get(method) ?? [];
    list.push(failure);
    this.failures.set(method, list);
  }

  /** Makes `update` available to getUpdates (polling mode). */
  pushUpdate(update: Update): void {
    this.updates.push(update);
    this.events.emit("update");
  }

  /** Successful calls of `method`, in order. */
  payloads(method: string): Record<string, unknown>[] {
    return this.calls.filter((c) => c.method === method && c.status === 200).map((c) => c.payload);
  }

  /** Resolves once `count` successful calls of `method` were recorded (no sleeping: woken by each call). */
  async waitFor(method: string, count: number, timeoutMs = 10_000): Promise<Record<string, unknown>[]> {
    await this.waitUntil(() => this.payloads(method).length >= count, `${count} ${method} calls`, timeoutMs);
    return this.payloads(method);
  }

  /** Resolves once `done()` holds, checked after every recorded call. */
  async waitUntil(done: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
    if (!done()) {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => {
          this.events.off("call", check);
          reject(new Error(`fake Bot API: no ${what} after ${timeoutMs} ms`));
        }, timeoutMs);
        const check = () => {
          if (!done()) return;
          clearTimeout(timer);
          this.events.off("call", check);
          resolve();
        };
        this.events.on("call", check);
      });
    }
  }

  /** Method names of the successful calls, in order (getUpdates and getMe left out). */
  sequence(): string[] {
    return this.calls.filter((c) => c.status === 200 && c.method !== "getUpdates" && c.method !== "getMe").map((c) => c.method);
  }

  async stop(): Promise<void> {
    this.events.emit("stop");
    await new Promise<void>((resolve) => {
      if (!this.server) return resolve();
      this.server.closeAllConnections();
      this.server.close(() => resolve());
    });
  }

  /** With a limit: undefined when this sendMessage fits the sliding second (it is counted), else the retry_after in whole seconds. */
  private overLimit(): number | undefined {
    const limit = this.options.sendMessagesPerSecond;
    if (limit === undefined) return undefined;
    const now = performance.now();
    // Drop what left the window; the array is compacted now and then rather than shifted per call.
    while (this.windowStart < this.window.length && (this.window[this.windowStart] as number) <= now - 1000) this.windowStart++;
    if (this.windowStart > 1024) {
      this.window.splice(0, this.windowStart);
      this.windowStart = 0;
    }
    if (this.window.length - this.windowStart >= limit) {
      // When the oldest call in the window leaves it, rounded up to a second as Telegram does.
      const oldest = this.window[this.windowStart] as number;
      return Math.max(1, Math.ceil((oldest + 1000 - now) / 1000));
    }
    this.window.push(now);
    return undefined;
  }

  private record(call: RecordedCall): void {
    this.calls.push(call);
    this.events.emit("call");
  }

  private result(method: string, payload: Record<string, unknown>): unknown {
    switch (method) {
      case "getMe":
        return BOT_USER;
      case "sendMessage":
        return {
          message_id: ++this.messageId,
          from: BOT_USER,
          chat: { id: payload.chat_id, type: "private" },
          date: Math.floor(Date.now() / 1000),
          text: payload.text,
          ...(payload.reply_markup ? { reply_markup: payload.reply_markup } : {}),
        };
      case "editMessageReplyMarkup":
        return { message_id: payload.message_id, from: BOT_USER, chat: { id: payload.chat_id, type: "private" }, date: Math.floor(Date.now() / 1000), text: "…" };
      default:
        return true;
    }
  }

  /** Long polling: answers at once when updates are waiting, else when one arrives or after a short hold. */
  private getUpdates(payload: Record<string, unknown>, res: NodeJS.EventEmitter, reply: (body: unknown) => void): void {
    const offset = typeof payload.offset === "number" ? payload.offset : 0;
    const pending = () => this.updates.filter((u) => u.update_id >= offset);
    const answer = () => {
      this.events.off("update", answer);
      this.events.off("stop", answer);
      clearTimeout(hold);
      this.record({ method: "getUpdates", payload, at: Date.now() - this.started, status: 200 });
      reply({ ok: true, result: pending() });
    };
    const hold = setTimeout(answer, 500);
    res.on("close", () => {
      clearTimeout(hold);
      this.events.off("update", answer);
      this.events.off("stop", answer);
    });
    if (pending().length > 0) return answer();
    this.events.on("update", answer);
    this.events.on("stop", answer);
  }
}

/** A fixture Update from test/fixtures/telegram/ (a fresh copy), changed by `edit`. */
export function fixture(name: string, edit: (u: Update) => void = () => {}): Update {
  const update = JSON.parse(readFileSync(new URL(`../fixtures/telegram/${name}.json`, import.meta.url), "utf8")) as Update;
  edit(update);
  return update;
}
