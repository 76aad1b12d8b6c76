/**
 * The process-level error policy on its own (app/process-errors.ts), on an emitter standing in
 * for `process`: what each kind of uncaught error logs and does.
 */
import { EventEmitter } from "node:events";
import { describe, expect, it } from "vitest";
import { installProcessErrorPolicy, type ProcessErrorSource } from "../../app/process-errors.ts";

function recording() {
  const lines: { level: string; obj: Record<string, unknown>; msg: string }[] = [];
  return {
    lines,
    error: (obj: object, msg: string) => void lines.push({ level: "error", obj: obj as Record<string, unknown>, msg }),
    fatal: (obj: object, msg: string) => void lines.push({ level: "fatal", obj: obj as Record<string, unknown>, msg }),
  };
}

describe("installProcessErrorPolicy", () => {
  it("logs an unhandled rejection and keeps going; logs an uncaught exception and calls onFatal once", () => {
    const source = new EventEmitter();
    const logger = recording();
    let fatal = 0;
    const uninstall = installProcessErrorPolicy({ source: source as unknown as ProcessErrorSource, logger, role: "serve", onFatal: () => void fatal++ });

    source.emit("unhandledRejection", new Error("Target closed; token=abc123secret"));
    source.emit("unhandledRejection", "a bare string reason");
    expect(fatal).toBe(0);
    expect(logger.lines.map((l) => [l.level, l.obj.event])).toEqual([
      ["error", "unhandledRejection"],
      ["error", "unhandledRejection"],
    ]);
    expect(logger.lines[0]?.obj.err).toEqual({ name: "Error", message: "Target closed; token=[redacted]" });
    expect(logger.lines[0]?.msg).toContain("keeps serving");
    expect(logger.lines[1]?.obj.err).toEqual({ name: "Error", message: "a bare string reason" });

    source.emit("uncaughtException", Object.assign(new TypeError("x is undefined"), { code: "ERR_X" }));
    source.emit("uncaughtException", new Error("a second one during the shutdown"));
    expect(fatal).toBe(1);
    expect(logger.lines.slice(2).map((l) => l.level)).toEqual(["fatal", "fatal"]);
    expect(logger.lines[2]?.obj).toEqual({ err: { name: "TypeError", message: "x is undefined", code: "ERR_X" }, event: "uncaughtException", role: "serve" });
    expect(logger.lines[2]?.msg).toContain("exit code 1");
    expect(JSON.stringify(logger.lines)).not.toContain("abc123secret");

    uninstall();
    expect(source.listenerCount("unhandledRejection") + source.listenerCount("uncaughtException")).toBe(0);
  });
});
