/**
 * The Cloud API webhook mapping on its own: real-shaped notifications in, engine events out;
 * the signature check on raw bytes.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { parseReplyId, replyId } from "../../channels/whatsapp-cloud/render.ts";
import { parseWebhook, signBody, verifySignature } from "../../channels/whatsapp-cloud/webhook.ts";

const FIXTURES = path.resolve(import.meta.dirname, "../fixtures/whatsapp-cloud");
const PHONE = "106540352242922";
const load = (name: string) => JSON.parse(readFileSync(path.join(FIXTURES, name), "utf8")) as { entry: { changes: { value: { messages: Record<string, unknown>[] } }[] }[] };

function withMessage(m: Record<string, unknown>) {
  const p = load("text-message.json");
  const value = p.entry[0]?.changes[0]?.value as { messages: Record<string, unknown>[] };
  value.messages = [{ from: "16505551234", id: "wamid.X1", timestamp: "1749416383", ...m }];
  return p;
}

describe("parseWebhook", () => {
  it("maps text, button_reply and list_reply to text and choice events keyed by the message id", () => {
    expect(parseWebhook(load("text-message.json"), { phoneNumberId: PHONE })).toEqual({
      ok: true,
      events: [
        {
          channel: "whatsapp-cloud",
          conversationId: "16505551234",
          userId: "16505551234",
          dedupeKey: "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA=",
          kind: "text",
          text: "Does it come in another color?",
          startIfIdle: true,
        },
      ],
      // The message's own time opens the user's 24-hour window.
      seen: [{ waId: "16505551234", at: 1749416383_000 }],
      windowClosed: [],
    });
    expect(parseWebhook(load("button-reply.json"), { phoneNumberId: PHONE })).toMatchObject({ ok: true, events: [{ kind: "choice", promptId: "p2", buttonIndex: 0 }] });
    expect(parseWebhook(load("list-reply.json"), { phoneNumberId: PHONE })).toMatchObject({ ok: true, events: [{ kind: "choice", promptId: "p1", buttonIndex: 3 }] });
  });

  it("yields nothing for statuses, reactions and other phone numbers; media is an empty answer", () => {
    expect(parseWebhook(load("status-delivered.json"), { phoneNumberId: PHONE })).toEqual({ ok: true, events: [], seen: [], windowClosed: [] });
    expect(parseWebhook(load("text-message.json"), { phoneNumberId: "1" })).toEqual({ ok: true, events: [], seen: [], windowClosed: [] });
    // A reaction answers nothing, yet the user wrote: their window opens.
    expect(parseWebhook(withMessage({ type: "reaction", reaction: { message_id: "wamid.Y", emoji: "👍" } }), { phoneNumberId: PHONE })).toEqual({ ok: true, events: [], seen: [{ waId: "16505551234", at: 1749416383_000 }], windowClosed: [] });
    expect(parseWebhook(withMessage({ type: "image", image: { id: "1", mime_type: "image/jpeg" } }), { phoneNumberId: PHONE })).toMatchObject({ events: [{ kind: "text", text: "", startIfIdle: true }] });
    // A reply id botflow did not make answers with its title.
    expect(parseWebhook(withMessage({ type: "interactive", interactive: { type: "button_reply", button_reply: { id: "other-tool", title: "5" } } }), { phoneNumberId: PHONE })).toMatchObject({
      events: [{ kind: "text", text: "5" }],
    });
  });

  it("refuses what is not a WhatsApp Business Account notification, without echoing it", () => {
    for (const body of [null, [], "x", { object: "page", entry: [] }, { object: "whatsapp_business_account" }]) {
      const r = parseWebhook(body, { phoneNumberId: PHONE });
      expect(r.ok).toBe(false);
    }
    expect(parseWebhook({ object: "whatsapp_business_account", entry: [{ changes: [{ field: "messages", value: { metadata: { phone_number_id: PHONE }, messages: [{ type: "text" }, 5] } }] }] }, { phoneNumberId: PHONE })).toEqual({ ok: true, events: [], seen: [], windowClosed: [] });
  });

  it("maps a template's quick-reply tap (a button message) with botflow's payload to a choice, and another payload to its text", () => {
    expect(parseWebhook(load("template-button.json"), { phoneNumberId: PHONE })).toEqual({
      ok: true,
      events: [{ channel: "whatsapp-cloud", conversationId: "16505551234", userId: "16505551234", dedupeKey: "wamid.HBgLMTY1MDUwNzY1MjAVAgASGBQzRUIwQTQ5NjU4QjY4MDQwRkU3QwA=", kind: "choice", promptId: "p1", buttonIndex: 3 }],
      seen: [{ waId: "16505551234", at: 1750032400_000 }],
      windowClosed: [],
    });
    expect(parseWebhook(withMessage({ type: "button", button: { payload: "Stop promotions", text: "Stop promotions" } }), { phoneNumberId: PHONE })).toMatchObject({
      events: [{ kind: "text", text: "Stop promotions", startIfIdle: true }],
    });
  });

  it("keeps each user's latest message time, skips system messages, and reads a failed re-engagement status as a closed window", () => {
    const p = load("text-message.json");
    const value = p.entry[0]?.changes[0]?.value as { messages: Record<string, unknown>[] };
    value.messages = [
      { from: "16505551234", id: "wamid.A", timestamp: "1750000100", type: "text", text: { body: "a" } },
      { from: "16505551234", id: "wamid.B", timestamp: "1750000000", type: "text", text: { body: "b" } },
      { from: "4915112345678", id: "wamid.C", timestamp: "soon", type: "image", image: { id: "1" } },
      { from: "447700900123", id: "wamid.D", timestamp: "1750000200", type: "system", system: { body: "changed number", type: "user_changed_number" } },
    ];
    expect(parseWebhook(p, { phoneNumberId: PHONE })).toMatchObject({
      seen: [
        { waId: "16505551234", at: 1750000100_000 },
        { waId: "4915112345678", at: undefined },
      ],
    });
    expect(parseWebhook(load("status-failed-re-engagement.json"), { phoneNumberId: PHONE })).toEqual({ ok: true, events: [], seen: [], windowClosed: ["16505551234"] });
    expect(parseWebhook(load("status-failed-re-engagement.json"), { phoneNumberId: "1" })).toEqual({ ok: true, events: [], seen: [], windowClosed: [] });
  });
});

describe("reply ids and signatures", () => {
  it("round-trips a prompt id and button index, and refuses other ids", () => {
    expect(parseReplyId(replyId("p12", 9))).toEqual({ promptId: "p12", buttonIndex: 9 });
    for (const id of ["p1|2", "bf1|p1|", "bf1|p 1|2", "bf2|p1|2", "bf1|p1|1234"]) expect(parseReplyId(id)).toBeUndefined();
  });

  it("accepts only the app secret's HMAC of the exact bytes", () => {
    const raw = Buffer.from('{"object":"whatsapp_business_account","entry":[]}');
    expect(verifySignature(raw, signBody(raw, "s3cret"), "s3cret")).toBe(true);
    expect(verifySignature(raw, signBody(raw, "other"), "s3cret")).toBe(false);
    expect(verifySignature(Buffer.concat([raw, Buffer.from(" ")]), signBody(raw, "s3cret"), "s3cret")).toBe(false);
    expect(verifySignature(raw, signBody(raw, "s3cret").replace("sha256=", "sha1="), "s3cret")).toBe(false);
    expect(verifySignature(raw, undefined, "s3cret")).toBe(false);
    expect(verifySignature(raw, "sha256=zz", "s3cret")).toBe(false);
  });
});
