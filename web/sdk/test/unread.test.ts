import { test } from "node:test";
import assert from "node:assert/strict";
import { registry, styles } from "./fakedom.js";
import { openClient, flush, type Req } from "./helpers.js";
import { TAG, UnreadElement } from "../src/unread.js";

test("<imapbridge-unread>: defined on import, live count as its text, polite live region, change events, unwatch on removal", async () => {
  assert.equal(registry.get(TAG), UnreadElement);
  const { client, ws } = await openClient();
  ws.onRequest = (r: Req) => {
    if (r.op === "watch") ws.respond(r.id, { mode: "poll", intervalMs: 30000, mailboxes: [{ mailbox: "INBOX", messages: 5, unseen: 2 }, { mailbox: "Lists", messages: 9, unseen: 1 }] });
    if (r.op === "unwatch") ws.respond(r.id, {});
  };
  const el = new UnreadElement();
  const fake = el as unknown as { isConnected: boolean; textContent: string; attrs: Map<string, string>; events: { type: string; detail: unknown }[] };
  el.client = client;
  fake.isConnected = true;
  el.connectedCallback();
  for (let i = 0; i < 5; i++) await flush();
  assert.equal(fake.textContent, "3", "total over every subscribed folder");
  assert.equal(el.count, 3);
  assert.equal(fake.attrs.get("role"), "status");
  assert.equal(fake.attrs.get("aria-live"), "polite");
  assert.equal(fake.attrs.get("aria-label"), "3 unread");
  assert.equal(fake.attrs.get("data-state"), "poll");
  assert.ok(styles.some((s) => s.textContent.includes("var(--imapbridge-unread-bg")), "themable default style");
  ws.push({ type: "event", seq: 1, event: "status", mailbox: "Lists", status: { unseen: 4 } });
  assert.equal(fake.textContent, "6");
  assert.deepEqual(fake.events.map((e) => e.detail), [{ count: 3 }, { count: 6 }]);
  el.disconnectedCallback();
  await flush();
  assert.equal(ws.sent[ws.sent.length - 1]?.op, "unwatch");
  client.close();
});

test("<imapbridge-unread mailbox=INBOX> counts one folder", async () => {
  const { client, ws } = await openClient();
  ws.onRequest = (r: Req) => {
    if (r.op === "watch") ws.respond(r.id, { mode: "notify", mailboxes: [{ mailbox: "INBOX", messages: 5, unseen: 2 }] });
  };
  const el = new UnreadElement();
  const fake = el as unknown as { isConnected: boolean; textContent: string; attrs: Map<string, string> };
  fake.attrs.set("mailbox", "INBOX");
  el.client = client;
  fake.isConnected = true;
  el.connectedCallback();
  for (let i = 0; i < 5; i++) await flush();
  assert.deepEqual((ws.sent.find((r) => r.op === "watch") as Record<string, unknown>)["mailboxes"], ["INBOX"]);
  assert.equal(fake.textContent, "2");
  ws.push({ type: "event", seq: 1, event: "status", mailbox: "Other", status: { unseen: 4 } });
  assert.equal(fake.textContent, "2");
  client.close();
});
