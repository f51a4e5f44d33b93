import { test } from "node:test";
import assert from "node:assert/strict";
import { openClient, flush, type Req } from "./helpers.js";
import { canonical, find, sort, thread, threadUids, watchStatus } from "../src/find.js";

test("find/sort/thread send canonical members and resolve with the result", async () => {
  const { client, ws } = await openClient();
  ws.onRequest = (r: Req) => {
    if (r.op === "find") ws.respond(r.id, { uids: "5:6", total: 6, min: 1, max: 6, esearch: true });
    if (r.op === "sort") ws.respond(r.id, { uids: [6, 4, 5], total: 3, fallback: true });
    if (r.op === "thread") ws.respond(r.id, { threads: [{ uid: 1, children: [{ uid: 2, children: [{ uid: 4 }] }] }, { uid: 0, children: [{ uid: 3 }, { uid: 5 }] }], total: 2, messages: 5, fallback: false });
  };
  const f = await find(client, { text: ["budget"], from: ["alice"], or: [[{ flags: ["\\Seen"] }, { larger: 10 }]], subject: [] }, { limit: 2 });
  assert.equal(f.uids, "5:6");
  assert.deepEqual(ws.sent[ws.sent.length - 1], { id: ws.sent[ws.sent.length - 1]?.id, op: "find", where: { from: ["alice"], text: ["budget"], or: [[{ flags: ["\\Seen"] }, { larger: 10 }]] }, limit: 2 });
  const s = await sort(client, [{ key: "date", reverse: true }]);
  assert.deepEqual(s.uids, [6, 4, 5]);
  const t = await thread(client, { reverse: true });
  assert.deepEqual(t.threads.map((n) => threadUids(n)), [[1, 2, 4], [3, 5]]);
  assert.deepEqual(canonical({ not: [{ to: ["b"], from: ["a"] }], uids: "1:*" }), { uids: "1:*", not: [{ from: ["a"], to: ["b"] }] });
  client.close();
});

test("watchStatus: snapshot, status events, a gap refreshes", async () => {
  const { client, ws, timers } = await openClient();
  let watches = 0;
  let statuses = 0;
  ws.onRequest = (r: Req) => {
    if (r.op === "watch") {
      watches++;
      ws.respond(r.id, { mode: "notify", mailboxes: [{ mailbox: "INBOX", messages: 3, unseen: watches, uidNext: 4 }, { mailbox: "Archive", messages: 1, unseen: 0, uidNext: 2 }] });
    }
    if (r.op === "status") {
      statuses++;
      ws.respond(r.id, { mailbox: r["mailbox"], messages: 4, unseen: 2, uidNext: 5 });
    }
    if (r.op === "unwatch") ws.respond(r.id, {});
  };
  const changes: string[] = [];
  const w = await watchStatus(client, { onChange: (m, v) => changes.push(`${m}=${v.unseen}`) });
  assert.equal(w.mode, "notify");
  assert.equal(w.unseen("INBOX"), 1);
  assert.equal(w.unseen(), 1);
  assert.deepEqual(changes, ["INBOX=1", "Archive=0"]);
  // A status event of another folder.
  ws.push({ type: "event", seq: 1, event: "status", mailbox: "Archive", status: { messages: 2, unseen: 1, uidNext: 3 } });
  assert.equal(w.unseen("Archive"), 1);
  assert.equal(w.unseen(), 2);
  // The same values again change nothing.
  ws.push({ type: "event", seq: 2, event: "status", mailbox: "Archive", status: { unseen: 1 } });
  assert.deepEqual(changes.slice(2), ["Archive=1"]);
  // A gap: a full refresh (watch again).
  ws.push({ type: "event", seq: 9, event: "status", mailbox: "Archive", status: { unseen: 5 } });
  await flush();
  assert.equal(watches, 2);
  assert.equal(w.unseen("INBOX"), 2, "the refresh's values");
  assert.equal(statuses, 0);
  await w.close();
  assert.equal(ws.sent[ws.sent.length - 1]?.op, "unwatch");
  ws.push({ type: "event", seq: 10, event: "status", mailbox: "Archive", status: { unseen: 9 } });
  assert.notEqual(w.unseen("Archive"), 9);
  void timers;
  client.close();
});
