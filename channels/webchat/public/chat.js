// botflow web chat client: speaks the protocol in ../README.md. Plain browser JavaScript,
// no build step. Frames are resent with the same id until acknowledged, so a dropped
// connection never loses or doubles an answer.
"use strict";
(() => {
  const STORE_KEY = "botflow.webchat.conversation";
  const params = new URLSearchParams(location.search);
  const scenarioId = params.get("scenario") || undefined;
  const log = document.getElementById("log");
  const status = document.getElementById("status");
  const form = document.getElementById("composer");
  const input = document.getElementById("text");
  const restart = document.getElementById("restart");

  let ws = null;
  let ready = false;
  let retry = 0;
  let conversationId = params.get("new") === "1" ? null : read(STORE_KEY);
  /** Unacknowledged frames by client id, in send order. */
  const outbox = new Map();
  /** Prompts answered by typing here; their edit frame needs no second bubble. */
  const echoed = new Set();
  /** The question waiting for an answer; typed text answers it. */
  let openPrompt = null;

  function read(key) { try { return localStorage.getItem(key); } catch { return null; } }
  function write(key, value) { try { localStorage.setItem(key, value); } catch { /* private mode */ } }
  function newId() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    return Date.now().toString(36) + Math.random().toString(36).slice(2);
  }
  function setStatus(text) { status.textContent = text; }
  function scrollDown() { log.scrollTop = log.scrollHeight; }

  function note(text, isError) {
    const p = document.createElement("p");
    p.className = isError ? "note error" : "note";
    p.textContent = text;
    log.append(p);
    scrollDown();
  }

  function bubble(text, who) {
    const div = document.createElement("div");
    div.className = "msg " + who;
    div.textContent = text;
    log.append(div);
    scrollDown();
    return div;
  }

  function send(frame) {
    if (frame.id) outbox.set(frame.id, frame);
    if (ready && ws && ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(frame));
  }

  function renderMessage(f) {
    const div = bubble(f.text, "bot");
    if (f.promptId) div.dataset.promptId = f.promptId;
    if (f.promptId) openPrompt = f.promptId;
    if (f.expectsText && ready) input.focus();
    if (!f.buttons || f.buttons.length === 0) return;
    const byIndex = new Map(f.buttons.map((b) => [b.index, b]));
    const rows = f.rows || [f.buttons.map((b) => b.index)];
    const group = document.createElement("div");
    group.className = "choices";
    group.setAttribute("role", "group");
    group.setAttribute("aria-label", f.text);
    for (const row of rows) {
      const line = document.createElement("div");
      line.className = "row";
      for (const index of row) {
        const b = byIndex.get(index);
        if (!b) continue;
        const button = document.createElement("button");
        button.type = "button";
        button.textContent = b.label;
        button.dataset.index = String(b.index);
        button.setAttribute("aria-pressed", "false");
        if (b.skip) button.classList.add("skip");
        button.addEventListener("click", () => {
          for (const other of group.querySelectorAll("button")) other.disabled = true;
          send({ type: "choice", id: newId(), promptId: f.promptId, index: b.index });
        });
        line.append(button);
      }
      group.append(line);
    }
    div.append(group);
    scrollDown();
  }

  function renderEdit(f) {
    const div = log.querySelector('[data-prompt-id="' + CSS.escape(f.promptId) + '"]');
    if (openPrompt === f.promptId) openPrompt = null;
    if (div) {
      for (const button of div.querySelectorAll("button")) {
        button.disabled = true;
        if (f.answer !== undefined && button.textContent === f.answer) button.setAttribute("aria-pressed", "true");
      }
    }
    if (f.answer !== undefined && !echoed.has(f.promptId)) bubble(f.answer, "user");
    if (f.reason === "timeout") note("This question has expired.");
  }

  function onFrame(f) {
    switch (f.type) {
      case "hello":
        conversationId = f.conversationId;
        write(STORE_KEY, conversationId);
        log.replaceChildren(); // a resumed conversation is replayed right after this frame
        echoed.clear();
        openPrompt = null;
        ready = true;
        retry = 0;
        setStatus("Connected");
        if (!f.resumed) {
          outbox.clear(); // answers to prompts of a conversation the server no longer has
          send({ type: "start", id: newId(), ...(scenarioId ? { scenarioId } : {}) });
        } else {
          for (const frame of outbox.values()) ws.send(JSON.stringify(frame));
        }
        break;
      case "message":
        renderMessage(f);
        break;
      case "edit":
        renderEdit(f);
        break;
      case "ack":
        outbox.delete(f.id);
        for (const el of log.querySelectorAll('.msg.pending[data-id="' + CSS.escape(f.id) + '"]')) el.classList.remove("pending");
        break;
      case "error":
        if (f.id && ["busy", "internal", "shutting_down"].includes(f.code)) {
          setTimeout(() => { const fr = outbox.get(f.id); if (fr) send(fr); }, 1000);
        } else {
          if (f.id) outbox.delete(f.id);
          note(f.code === "no_dialogue" ? "This conversation has ended. Tap \u201cStart over\u201d to begin a new one." : f.message, f.code !== "no_dialogue");
        }
        break;
      default:
        break;
    }
  }

  function connect() {
    setStatus(retry === 0 ? "Connecting…" : "Reconnecting…");
    ready = false;
    ws = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/chat/ws");
    ws.addEventListener("open", () => {
      const locale = (navigator.language || "").match(/^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8}){0,2}$/) ? navigator.language : undefined;
      ws.send(JSON.stringify({ type: "hello", ...(conversationId ? { conversationId } : {}), ...(locale ? { locale } : {}) }));
    });
    ws.addEventListener("message", (ev) => {
      let f;
      try { f = JSON.parse(ev.data); } catch { return; }
      onFrame(f);
    });
    ws.addEventListener("close", () => {
      ready = false;
      setStatus("Disconnected, reconnecting…");
      const delay = Math.min(10000, 500 * 2 ** retry++);
      setTimeout(connect, delay);
    });
  }

  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const text = input.value.trim();
    if (!text) return;
    input.value = "";
    const id = newId();
    const div = bubble(text, "user");
    div.classList.add("pending");
    div.dataset.id = id;
    if (openPrompt) echoed.add(openPrompt);
    send({ type: "text", id, text });
  });

  restart.addEventListener("click", () => send({ type: "start", id: newId(), ...(scenarioId ? { scenarioId } : {}) }));

  connect();
})();
