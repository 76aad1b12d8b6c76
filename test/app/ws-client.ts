/**
 * A web chat test client over a real WebSocket: sends frames, and hands out received frames
 * in order, waiting (with a limit) for the next one.
 */
import WebSocket from "ws";

export type Frame = Record<string, unknown> & { type: string };

export class ChatClient {
  private readonly frames: Frame[] = [];
  private waiter: (() => void) | undefined;
  closeCode: number | undefined;
  private readonly closedPromise: Promise<number>;

  private constructor(readonly ws: WebSocket) {
    this.closedPromise = new Promise((resolve) => ws.on("close", (code) => resolve(code)));
    ws.on("message", (data) => {
      this.frames.push(JSON.parse(String(data)) as Frame);
      this.waiter?.();
    });
    ws.on("close", (code) => {
      this.closeCode = code;
      this.waiter?.();
    });
  }

  static async connect(baseUrl: string): Promise<ChatClient> {
    const ws = new WebSocket(`${baseUrl.replace(/^http/, "ws")}/chat/ws`);
    await new Promise<void>((resolve, reject) => {
      ws.once("open", () => resolve());
      ws.once("error", reject);
    });
    return new ChatClient(ws);
  }

  send(frame: unknown): void {
    this.ws.send(typeof frame === "string" ? frame : JSON.stringify(frame));
  }

  /** The next `n` frames, in order; fails after `timeoutMs` without them. */
  async next(n = 1, timeoutMs = 5_000): Promise<Frame[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.frames.length < n) {
      if (this.closeCode !== undefined) throw new Error(`socket closed (${this.closeCode}) with ${this.frames.length} of ${n} frames: ${JSON.stringify(this.frames)}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`got ${this.frames.length} of ${n} frames: ${JSON.stringify(this.frames)}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiter = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.waiter = undefined;
    }
    return this.frames.splice(0, n);
  }

  /** Frames received and not taken yet. */
  pending(): Frame[] {
    return [...this.frames];
  }

  /** Waits until the server closes the socket; returns the close code. */
  async closed(timeoutMs = 5_000): Promise<number> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`socket still open after ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      return await Promise.race([this.closedPromise, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  close(): void {
    this.ws.close();
  }
}

/** The conversation id of a server `hello` frame (throws on anything else). */
export function conversationIdOf(frame: Frame | undefined): string {
  if (frame?.type !== "hello" || typeof frame.conversationId !== "string") throw new Error(`not a hello frame: ${JSON.stringify(frame)}`);
  return frame.conversationId;
}
