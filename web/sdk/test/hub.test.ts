// The hub that shares one bridge socket between tabs (@imapbridge/sdk/shared).
import { test } from "node:test";
import assert from "node:assert/strict";
import { Registry, type HubMessage } from "../src/hub.js";
import { FakeWebSocket, flush } from "./helpers.js";

function tab(reg: Registry, id: string, token = "a.eyJzdWIiOiJhbGljZSJ9.c") {
  const got: HubMessage[] = [];
  reg.handle({ t: "open", tab: id, url: "wss://b/ws", protocols: ["imapbridge.v1", "bearer." + token] }, (m) => got.push(m));
  const frames = () => got.filter((m) => m.t === "frame").map((m) => JSON.parse((m as { data: string }).data));
  return { got, frames, send: (f: object) => reg.handle({ t: "send", tab: id, data: JSON.stringify(f) }, () => undefined) };
}

test("hub: two tabs, one socket, ids rewritten, login shared, events routed by mailbox", async () => {
  FakeWebSocket.instances = [];
  const reg = new Registry("h", FakeWebSocket as unknown as typeof WebSocket);
  const a = tab(reg, "A");
  const ws = FakeWebSocket.last;
  ws.open();
  ws.hello();
  assert.equal(a.frames()[0].type, "hello");
  a.send({ id: "r1", op: "login", password: "pw" });
  assert.equal(ws.sent[0]!.op, "login");
  ws.respond(ws.sent[0]!.id);
  assert.deepEqual(a.frames()[1], { type: "response", id: "r1", result: {} });
  const b = tab(reg, "B");
  assert.equal(FakeWebSocket.instances.length, 1, "one socket");
  assert.equal(b.got[0]!.t, "opened");
  assert.equal(b.frames()[0].type, "hello");
  b.send({ id: "r1", op: "login", password: "pw" });
  assert.deepEqual(b.frames()[1], { type: "response", id: "r1", result: {} }, "login answered by the hub");
  b.send({ id: "r2", op: "imaplib", cmd: "capability" });
  assert.equal(ws.sent.length, 2);
  a.send({ id: "r2", op: "select", mailbox: "INBOX" });
  b.send({ id: "r3", op: "select", mailbox: "INBOX", readOnly: true });
  assert.equal(ws.sent.length, 4);
  ws.push({ type: "response", id: ws.sent[1]!.id, typ: "OK", data: ["IMAP4rev1"] });
  assert.equal(b.frames().at(-1).id, "r2");
  ws.respond(ws.sent[2]!.id, { mailbox: "INBOX" });
  ws.respond(ws.sent[3]!.id, { mailbox: "INBOX" });
  ws.push({ type: "event", seq: 1, event: "exists", mailbox: "INBOX", count: 4 });
  assert.equal(a.frames().at(-1).seq, 1);
  assert.equal(b.frames().at(-1).seq, 1);
  // B moves to Sent: A is stale; A's heartbeat noop selects INBOX again and hands A a gap.
  b.send({ id: "r4", op: "select", mailbox: "Sent" });
  ws.respond(ws.sent[4]!.id, { mailbox: "Sent" });
  ws.push({ type: "event", seq: 2, event: "exists", mailbox: "Sent", count: 9 });
  assert.equal(a.frames().at(-1).seq, 1, "A does not hear Sent's events");
  assert.equal(b.frames().at(-1).seq, 2);
  a.send({ id: "r5", op: "noop" });
  assert.deepEqual(ws.sent.slice(5).map((r) => [r.op, r["mailbox"]]), [["select", "INBOX"], ["noop", undefined]]);
  assert.equal(a.frames().at(-1).seq, 3, "A got a gap (1 → 3) and will resync");
  // The socket closes: every tab hears it.
  ws.serverClose(4401, "token expired");
  assert.deepEqual(a.got.at(-1), { t: "closed", tab: "A", code: 4401, reason: "token expired" });
  assert.deepEqual(b.got.at(-1), { t: "closed", tab: "B", code: 4401, reason: "token expired" });
  await flush();
});

test("hub: another user gets another socket; in-flight cap is shared", () => {
  FakeWebSocket.instances = [];
  const reg = new Registry("h", FakeWebSocket as unknown as typeof WebSocket);
  const a = tab(reg, "A");
  tab(reg, "B", "a.eyJzdWIiOiJib2IifQ.c");
  assert.equal(FakeWebSocket.instances.length, 2);
  const ws = FakeWebSocket.instances[0]!;
  ws.open();
  ws.hello();
  const c = tab(reg, "C");
  for (let i = 0; i < 6; i++) a.send({ id: `a${i}`, op: "noop" });
  for (let i = 0; i < 6; i++) c.send({ id: `c${i}`, op: "noop" });
  assert.equal(ws.sent.length, 8, "the bridge's in-flight limit holds across tabs");
  ws.respond(ws.sent[0]!.id);
  assert.equal(ws.sent.length, 9);
});

test("hub: a store's flag echoes reach the other tabs on its mailbox as flags events; silent stays silent", () => {
  FakeWebSocket.instances = [];
  const reg = new Registry("h", FakeWebSocket as unknown as typeof WebSocket);
  const a = tab(reg, "A");
  const ws = FakeWebSocket.last;
  ws.open();
  ws.hello();
  const b = tab(reg, "B");
  a.send({ id: "s1", op: "select", mailbox: "INBOX" });
  b.send({ id: "s1", op: "select", mailbox: "INBOX" });
  ws.respond(ws.sent[0]!.id, { mailbox: "INBOX" });
  ws.respond(ws.sent[1]!.id, { mailbox: "INBOX" });
  a.send({ id: "t1", op: "store", uids: "5", mode: "add", flags: ["\\Seen"], silent: true });
  const sent = ws.sent.at(-1)!;
  assert.equal(sent["silent"], undefined, "the hub asks for the echoes");
  ws.respond(sent.id, { messages: [{ seq: 3, uid: 5, flags: ["\\Seen"], modseq: 9 }] });
  assert.deepEqual(a.frames().at(-1), { type: "response", id: "t1", result: { messages: [] } }, "silent for the tab that asked");
  assert.deepEqual(b.frames().at(-1), { type: "event", seq: 1, event: "flags", mailbox: "INBOX", uid: 5, seqnum: 3, flags: ["\\Seen"], modseq: 9 });
  assert.equal(a.frames().filter((f) => f.type === "event").length, 0, "no echo to the storing tab");
});

test("hub: one status watch for the session covers every tab's mailboxes; unwatch keeps the others'", () => {
  FakeWebSocket.instances = [];
  const reg = new Registry("h", FakeWebSocket as unknown as typeof WebSocket);
  const a = tab(reg, "A");
  const ws = FakeWebSocket.last;
  ws.open();
  ws.hello();
  const b = tab(reg, "B");
  a.send({ id: "w1", op: "watch", mailboxes: ["INBOX", "Lists"] });
  b.send({ id: "w1", op: "watch", mailboxes: ["INBOX"] });
  assert.deepEqual(ws.sent.map((r) => [r.op, r["mailboxes"]]), [["watch", ["INBOX", "Lists"]], ["watch", ["INBOX", "Lists"]]]);
  ws.push({ type: "event", seq: 1, event: "status", mailbox: "Lists", status: { unseen: 2 } });
  assert.equal(b.frames().at(-1).event, "status", "every tab hears status events");
  a.send({ id: "w2", op: "unwatch" });
  assert.deepEqual([ws.sent[2]!.op, ws.sent[2]!["mailboxes"]], ["watch", ["INBOX"]], "B's watch stays");
  b.send({ id: "w2", op: "watch" });
  assert.deepEqual([ws.sent[3]!.op, ws.sent[3]!["mailboxes"]], ["watch", undefined], "every subscribed mailbox");
  b.send({ id: "w3", op: "unwatch" });
  assert.equal(ws.sent[4]!.op, "unwatch");
});
