/**
 * A stand-in for the headless Chromium under whatsapp-web.js's real `Client`: puppeteer's
 * `launch` is stubbed to return a FakeBrowser whose one page runs the functions the library
 * evaluates (their own source, as puppeteer sends it) against a small model of WhatsApp Web's
 * `window`: the socket state, the commands bus, the connection, the keys a login QR is built
 * from. Modules the library only wires listeners into are inert stand-ins.
 *
 * What the page would do is driven by the test: `page.socket.set("state", "CONFLICT")`,
 * `page.socket.trigger("change:hasSynced")` (the login finished syncing), `page.cmd.trigger("logout")`,
 * `page.navigate(url, state)` (WhatsApp Web reloading after a logout), or a call of an exposed
 * binding (`page.call("onPollVoteEvent", [vote])`) exactly as the page's script would make it.
 *
 * Closed like a real one: after `browser.close()` every page call rejects with puppeteer's
 * "Target closed", which is what an async library handler running on a closed browser meets.
 */
import { EventEmitter } from "node:events";
import { randomBytes } from "node:crypto";
import { createRequire } from "node:module";
import { vi, type MockInstance } from "vitest";

type Listener = (...args: unknown[]) => unknown;

/** A Backbone-style model, as WhatsApp Web's Socket, Cmd and Conn are: `on`/`off` and change events. */
export class WaModel {
  private readonly listeners = new Map<string, Set<Listener>>();
  readonly fields: Record<string, unknown>;

  constructor(fields: Record<string, unknown> = {}) {
    this.fields = fields;
  }

  /** The library subscribes with space-separated event names ("change:body change:caption"). */
  on(events: string, fn: Listener): void {
    for (const e of events.split(" ")) {
      const set = this.listeners.get(e) ?? new Set<Listener>();
      set.add(fn);
      this.listeners.set(e, set);
    }
  }

  off(event: string, fn: Listener): void {
    this.listeners.get(event)?.delete(fn);
  }

  trigger(event: string, ...args: unknown[]): void {
    for (const fn of [...(this.listeners.get(event) ?? [])]) void fn(...args);
  }

  /** Sets a field and fires `change:<key>` with (model, value), as Backbone does. */
  set(key: string, value: unknown): void {
    this.fields[key] = value;
    this.trigger(`change:${key}`, this, value);
  }
}

/** WhatsApp Web's Socket model: `Socket.state` is read as a property. */
class SocketModel extends WaModel {
  get state(): unknown {
    return this.fields.state;
  }
}

class ConnModel extends WaModel {
  get ref(): unknown {
    return this.fields.ref;
  }
  serialize(): Record<string, unknown> {
    return { pushname: "botflow test", platform: "android" };
  }
}

class CmdModel extends WaModel {
  refreshQR(): void {}
}

/** Any module the library only touches in passing: every property is another stand-in, every call returns one. */
function inert(): unknown {
  const props = new Map<PropertyKey, unknown>();
  return new Proxy(function stub() {}, {
    get(_t, p) {
      if (p === "then") return undefined; // not a thenable: awaiting one must not hang
      if (p === Symbol.toPrimitive) return () => "stub";
      if (!props.has(p)) props.set(p, inert());
      return props.get(p);
    },
    set(_t, p, v) {
      props.set(p, v);
      return true;
    },
    apply: () => inert(),
    construct: () => inert() as object,
  });
}

/** The account this page is logged in as. */
export const PAGE_ME = "380670000001@c.us";

export type PageWindow = Record<string, unknown> & { require: (name: string) => unknown };

export interface PageModels {
  socket: WaModel;
  cmd: WaModel;
  conn: WaModel;
  window: PageWindow;
}

/** A fresh WhatsApp Web document: its socket in `state` (CONNECTED: a restored login; UNPAIRED: a QR is needed). */
function freshWindow(state: string): PageModels {
  const socket = new SocketModel({ state });
  const cmd = new CmdModel();
  const conn = new ConnModel({ ref: `2@${randomBytes(12).toString("base64")}` });
  const key = () => ({ pubKey: new Uint8Array(randomBytes(32)) });
  const me = { server: "c.us", user: PAGE_ME.split("@")[0], _serialized: PAGE_ME };
  const modules: Record<string, unknown> = {
    WAWebSocketModel: { Socket: socket },
    WAWebCmd: { Cmd: cmd },
    WAWebConnModel: { Conn: conn },
    WABase64: { encodeB64: (b: Uint8Array) => Buffer.from(b).toString("base64") },
    WAWebCompanionRegClientUtils: { DEVICE_PLATFORM: "Chrome" },
    WAWebAdvSignatureApi: {},
    WAWebUserPrefsInfoStore: { waNoiseInfo: { get: async () => ({ staticKeyPair: key() }) } },
    WAWebSignalStoreApi: { waSignalStore: { getRegistrationInfo: async () => ({ identityKeyPair: key() }) } },
    WAWebUserPrefsMultiDevice: { getADVSecretKey: () => randomBytes(32).toString("base64") },
    WAWebUserPrefsMeUser: { getMaybeMePnUser: () => me, getMaybeMeLidUser: () => undefined },
    // Absent in this build: the library checks for it before hooking calls.
    WAWebCallCollection: undefined,
  };
  const window: PageWindow = {
    Debug: { VERSION: "2.3000.1017054665" },
    require: (name: string) => (name in modules ? modules[name] : inert()),
  };
  return { socket, cmd, conn, window };
}

export class FakePage extends EventEmitter {
  closed = false;
  /** Errors thrown by exposed bindings; in a browser they reject the page's promise, never Node's. */
  readonly bindingErrors: unknown[] = [];
  private models: PageModels;
  private readonly bindings = new Map<string, Listener>();

  constructor(state: string) {
    super();
    this.models = freshWindow(state);
  }

  get socket(): WaModel {
    return this.models.socket;
  }
  get cmd(): WaModel {
    return this.models.cmd;
  }
  get window(): PageWindow {
    return this.models.window;
  }

  private alive(): void {
    // puppeteer's TargetCloseError, as a call on a closed browser rejects.
    if (this.closed) throw new Error("Protocol error (Runtime.callFunctionOn): Target closed");
  }

  /** Runs `fn` (its source, as puppeteer ships it to the page) with `window` bound to this page's. */
  async evaluate(fn: string | ((...args: unknown[]) => unknown), ...args: unknown[]): Promise<unknown> {
    this.alive();
    const source = typeof fn === "string" ? fn : `(${fn.toString()})(...args)`;
    // The page's script engine: the source runs with `window` bound to this page's.
    const run = new Function("window", "args", `return ${source};`) as (w: PageWindow, a: unknown[]) => unknown;
    const out = await run(this.window, args);
    this.alive();
    return out;
  }

  async exposeFunction(name: string, fn: Listener): Promise<void> {
    this.alive();
    this.bindings.set(name, fn);
    this.install(name, fn);
  }

  /** Calls an exposed binding the way the page's script does (`window.onX(...)`). */
  async call(name: string, ...args: unknown[]): Promise<unknown> {
    const binding = this.window[name];
    if (typeof binding !== "function") throw new Error(`the page has no binding ${name}`);
    return (binding as Listener)(...args);
  }

  /** WhatsApp Web reloads (after a logout): a fresh document, the bindings re-added as puppeteer does, then `framenavigated`. */
  navigate(url: string, state: string): void {
    this.alive();
    this.models = freshWindow(state);
    for (const [name, fn] of this.bindings) this.install(name, fn);
    this.emit("framenavigated", { url: () => url });
  }

  private install(name: string, fn: Listener): void {
    this.window[name] = (...a: unknown[]) => {
      const settled = Promise.resolve().then(() => fn(...a));
      settled.catch((err: unknown) => this.bindingErrors.push(err));
      return settled;
    };
  }

  async setUserAgent(): Promise<void> {
    this.alive();
  }
  async setBypassCSP(): Promise<void> {
    this.alive();
  }
  async authenticate(): Promise<void> {
    this.alive();
  }
  async evaluateOnNewDocument(): Promise<void> {
    this.alive();
  }
  async setRequestInterception(): Promise<void> {
    this.alive();
  }
  async goto(): Promise<null> {
    this.alive();
    return null;
  }
  /** Resolves at once: the test navigates when it wants to. */
  async waitForNavigation(): Promise<null> {
    this.alive();
    return null;
  }
}

export class FakeBrowser {
  readonly page: FakePage;
  private connected = true;

  constructor(state: string) {
    this.page = new FakePage(state);
  }

  async pages(): Promise<FakePage[]> {
    return [this.page];
  }
  async newPage(): Promise<FakePage> {
    return this.page;
  }
  isConnected(): boolean {
    return this.connected;
  }
  async close(): Promise<void> {
    this.connected = false;
    this.page.closed = true;
  }
}

/**
 * Stubs `launch` of the puppeteer module whatsapp-web.js requires (the same CommonJS instance):
 * each launch makes a FakeBrowser whose page starts in `state()` (default a restored login).
 */
export function stubPuppeteer(state: () => string = () => "CONNECTED"): { browsers: FakeBrowser[]; launch: MockInstance; restore: () => void } {
  const wwebRequire = createRequire(createRequire(import.meta.url).resolve("whatsapp-web.js"));
  const puppeteer = wwebRequire("puppeteer") as { launch: (...args: unknown[]) => Promise<unknown> };
  const browsers: FakeBrowser[] = [];
  const launch = vi.spyOn(puppeteer, "launch").mockImplementation(async () => {
    const b = new FakeBrowser(state());
    browsers.push(b);
    return b;
  });
  return { browsers, launch, restore: () => launch.mockRestore() };
}
