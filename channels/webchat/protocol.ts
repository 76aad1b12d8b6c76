/**
 * The web chat's WebSocket JSON protocol: the frames each side may send, and the strict
 * parser every inbound frame goes through before anything else sees it. See README.md.
 */
import { isScenarioId } from "../../engine/schema/scenario-schema.ts";

/** Largest client frame accepted, in bytes; bigger ones get an error frame. Room for MAX_TEXT_CHARS of any script as JSON. */
export const MAX_FRAME_BYTES = 320 * 1024;
/**
 * Longest typed text, in characters: the longest a scenario's max_length may allow (a long
 * complaint pasted into a comment box is kept, not lost); the scenario's own max_length
 * usually cuts earlier.
 */
export const MAX_TEXT_CHARS = 65_536;
const ID = /^[A-Za-z0-9_.:-]{1,64}$/;
/** What the server issues: 18 random bytes, base64url. Only such ids can be resumed, so none is short or chosen. */
const CONVERSATION = /^[A-Za-z0-9_-]{24}$/;
const LOCALE = /^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8}){0,2}$/;
const PROMPT = /^[A-Za-z0-9_-]{1,32}$/;

export type ClientFrame =
  | { type: "hello"; conversationId?: string; locale?: string }
  | { type: "start"; id?: string; scenarioId?: string }
  | { type: "text"; id: string; text: string }
  | { type: "choice"; id: string; promptId: string; index: number };

export interface ServerButton {
  label: string;
  index: number;
  /** The decline button ("Skip"). */
  skip?: true;
}

export type ServerFrame =
  /** Answer to `hello`: the conversation this socket speaks for; `resumed` when its history was replayed. */
  | { type: "hello"; conversationId: string; resumed: boolean }
  | { type: "message"; text: string; promptId?: string; buttons?: ServerButton[]; rows?: number[][]; expectsText?: boolean }
  /** A prompt is closed: disable its buttons; `answer` is the label picked, when one was. */
  | { type: "edit"; promptId: string; answer?: string; reason: string }
  /** The frame with client id `id` was processed (`duplicate`: it had been already). */
  | { type: "ack"; id: string; status: "processed" | "duplicate" }
  | { type: "error"; message: string; code: string; id?: string };

export type ParsedFrame = { ok: true; frame: ClientFrame } | { ok: false; code: string; message: string; id?: string };

/** Parses and checks one client frame; never throws, never echoes the frame back. */
export function parseClientFrame(data: string | Buffer, isBinary: boolean): ParsedFrame {
  if (isBinary) return fail("bad_frame", "binary frames are not accepted: send JSON text frames");
  const size = typeof data === "string" ? Buffer.byteLength(data) : data.length;
  if (size > MAX_FRAME_BYTES) return fail("too_large", `frame of ${size} bytes is over the ${MAX_FRAME_BYTES}-byte limit`);
  let value: unknown;
  try {
    value = JSON.parse(typeof data === "string" ? data : data.toString("utf8"));
  } catch {
    return fail("bad_json", "frame is not valid JSON");
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) return fail("bad_frame", "frame must be a JSON object with a type");
  const f = value as Record<string, unknown>;
  const id = typeof f.id === "string" && ID.test(f.id) ? f.id : undefined;
  const bad = (message: string) => fail("bad_frame", message, id);
  switch (f.type) {
    case "hello": {
      if (!only(f, ["type", "conversationId", "locale"])) return bad("hello takes only conversationId and locale");
      if (f.conversationId !== undefined && !(typeof f.conversationId === "string" && CONVERSATION.test(f.conversationId))) {
        return bad("hello.conversationId must be the id a previous hello returned");
      }
      if (f.locale !== undefined && !(typeof f.locale === "string" && LOCALE.test(f.locale))) return bad("hello.locale must be a language tag such as en or uk-UA");
      return { ok: true, frame: { type: "hello", ...pick(f, "conversationId"), ...pick(f, "locale") } };
    }
    case "start":
      if (!only(f, ["type", "id", "scenarioId"])) return bad("start takes only id and scenarioId");
      if (f.id !== undefined && id === undefined) return bad("start.id must be 1-64 letters, digits, _ . : or -");
      if (f.scenarioId !== undefined && !(typeof f.scenarioId === "string" && isScenarioId(f.scenarioId))) return bad("start.scenarioId must be a scenario id");
      return { ok: true, frame: { type: "start", ...pick(f, "id"), ...pick(f, "scenarioId") } };
    case "text":
      if (!only(f, ["type", "id", "text"])) return bad("text takes only id and text");
      if (id === undefined) return bad("text.id must be 1-64 letters, digits, _ . : or - (a client message id, reused when resending)");
      if (typeof f.text !== "string" || f.text.trim() === "") return bad("text.text must be a non-empty string");
      if ([...f.text].length > MAX_TEXT_CHARS) return bad(`text.text is over ${MAX_TEXT_CHARS} characters`);
      return { ok: true, frame: { type: "text", id, text: f.text } };
    case "choice":
      if (!only(f, ["type", "id", "promptId", "index"])) return bad("choice takes only id, promptId and index");
      if (id === undefined) return bad("choice.id must be 1-64 letters, digits, _ . : or - (a client message id, reused when resending)");
      if (typeof f.promptId !== "string" || !PROMPT.test(f.promptId)) return bad("choice.promptId must be the promptId of a message");
      if (typeof f.index !== "number" || !Number.isInteger(f.index) || f.index < 0 || f.index > 99) return bad("choice.index must be a button index");
      return { ok: true, frame: { type: "choice", id, promptId: f.promptId, index: f.index } };
    default:
      return bad("frame type must be hello, start, text or choice");
  }
}

function fail(code: string, message: string, id?: string): ParsedFrame {
  return { ok: false, code, message, ...(id !== undefined ? { id } : {}) };
}

function only(f: Record<string, unknown>, keys: readonly string[]): boolean {
  return Object.keys(f).every((k) => keys.includes(k));
}

function pick<K extends string>(f: Record<string, unknown>, key: K): { [P in K]?: string } {
  const v = f[key];
  return (typeof v === "string" ? { [key]: v } : {}) as { [P in K]?: string };
}
