import { test } from "node:test";
import assert from "node:assert/strict";
import type { Client, MailboxChange } from "../src/index.js";
import { parseUidSet, compactUids } from "../src/index.js";
import { inRanges } from "../src/uidset.js";
import { FakeWebSocket, flush, openClient, type Req } from "./helpers.js";

/** FakeMailbox is a tiny IMAP mailbox model answering the SDK's requests like the bridge would. */
class FakeMailbox {
  uidValidity = 7;
  uidNext = 1;
  modseq = 1;
  msgs = new Map<number, { flags: string[]; modseq: number }>();
  log: Req[] = [];
  add(n: number): void {
    for (let i = 0; i < n; i++) this.msgs.set(this.uidNext++, { flags: [], modseq: ++this.modseq });
  }
  setFlags(uid: number, flags: string[]): void {
    this.msgs.set(uid, { flags, modseq: ++this.modseq });
  }
  expunged: number[] = [];
  expunge(uid: number): void {
    this.msgs.delete(uid);
    this.expunged.push(uid);
    this.modseq++;
  }
  msg(uid: number, seq: number) {
    const m = this.msgs.get(uid)!;
    return { seq, uid, flags: m.flags, modseq: m.modseq, envelope: { subject: `m${uid}`, from: [], sender: [], replyTo: [], to: [], cc: [], bcc: [] } };
  }
  serve(ws: FakeWebSocket): void {
    ws.onRequest = (r) => {
      this.log.push(r);
      queueMicrotask(() => ws.push(this.answer(r)));
    };
  }
  answer(r: Req): unknown {
    const uids = [...this.msgs.keys()].sort((a, b) => a - b);
    const res = (result: unknown) => ({ type: "response", id: r.id, result });
    switch (r.op) {
      case "select": {
        const q = r["qresync"] as { uidValidity: number; modSeq: number; knownUids?: string } | undefined;
        const extra: Record<string, unknown> = {};
        if (q !== undefined && q.uidValidity === this.uidValidity) {
          const known = parseUidSet(q.knownUids ?? "") ?? [];
          extra["vanished"] = [compactUids(this.expunged.filter((u) => inRanges(known, u)))].filter((s) => s !== "");
          extra["changed"] = uids.filter((u) => this.msgs.get(u)!.modseq > q.modSeq).map((u) => ({ seq: uids.indexOf(u) + 1, uid: u, flags: this.msgs.get(u)!.flags, modseq: this.msgs.get(u)!.modseq }));
        }
        return res({ mailbox: r["mailbox"], exists: uids.length, recent: 0, uidValidity: this.uidValidity, uidNext: this.uidNext,
          highestModSeq: this.modseq, flags: [], permanentFlags: [], readOnly: false, ...extra });
      }
      case "search":
        return res({ uids: compactUids(uids), count: uids.length });
      case "fetch": {
        let pick: number[];
        if (typeof r["seqs"] === "string") {
          const ranges = parseUidSet(r["seqs"], uids.length)!;
          pick = uids.filter((_, i) => inRanges(ranges, i + 1));
        } else {
          const ranges = parseUidSet(r["uids"] as string, uids[uids.length - 1] ?? 1)!;
          pick = uids.filter((u) => inRanges(ranges, u));
          // "n:*" with n above every UID still returns the highest message.
          if (pick.length === 0 && (r["uids"] as string).endsWith(":*") && uids.length > 0) pick = [uids[uids.length - 1]!];
        }
        const since = r["changedSince"] as number | undefined;
        if (since !== undefined) pick = pick.filter((u) => this.msgs.get(u)!.modseq > since);
        return res({ messages: pick.map((u) => this.msg(u, uids.indexOf(u) + 1)) });
      }
      default:
        return res({});
    }
  }
}

async function watched(caps: string[], initial = 5) {
  const box = new FakeMailbox();
  box.add(initial);
  const s = await openClient({ heartbeatTimeoutMs: 1e9 }, caps);
  box.serve(s.ws);
  const view = s.client.watch("INBOX");
  const changes: MailboxChange[] = [];
  const seen = { exists: [] as number[], expunge: [] as number[], flags: [] as string[], reset: 0 };
  view.on("change", (c) => changes.push(c));
  view.on("exists", (m) => seen.exists.push(m.uid));
  view.on("expunge", (m) => seen.expunge.push(m.uid));
  view.on("flags", (m) => seen.flags.push(`${m.uid}:${m.flags.join(" ")}`));
  view.on("mailbox_reset", () => seen.reset++);
  await view.synced();
  return { ...s, box, view, changes, seen };
}

async function outage(client: Client, box: FakeMailbox, timers: { advance(ms: number): Promise<void> }, caps: string[]) {
  FakeWebSocket.last.serverClose(1006);
  await timers.advance(31_000);
  const ws = FakeWebSocket.last;
  box.serve(ws);
  ws.open();
  ws.hello(caps);
  await client.ready();
  await flush();
  return ws;
}

const state = (box: FakeMailbox) => [...box.msgs].map(([u, m]) => `${u}:${m.flags.join(" ")}`).sort();
const viewState = (v: { messages: ReadonlyMap<number, { flags: readonly string[] }> }) => [...v.messages].map(([u, m]) => `${u}:${m.flags.join(" ")}`).sort();

for (const caps of [["IMAP4REV1"], ["IMAP4REV1", "CONDSTORE"], ["IMAP4REV1", "CONDSTORE", "QRESYNC"]]) {
  test(`resync after an outage (${caps.join(" ")}): new UIDs, expunges, flags — each exactly once`, async () => {
    const { client, box, view, seen, timers } = await watched(caps);
    assert.deepEqual(seen.exists, [1, 2, 3, 4, 5]);
    // While offline: 3 new, 1 expunged, flags changed on one.
    box.add(3);
    box.expunge(2);
    box.setFlags(4, ["\\Seen"]);
    const ws = await outage(client, box, timers, caps);
    await flush();
    assert.deepEqual(viewState(view), state(box));
    assert.deepEqual(seen.exists, [1, 2, 3, 4, 5, 6, 7, 8]);
    assert.deepEqual(seen.expunge, [2]);
    assert.deepEqual(seen.flags, ["4:\\Seen"]);
    const ops = ws.sent.map((r) => r.op);
    if (caps.includes("QRESYNC")) {
      assert.ok(ws.sent[0]!["qresync"] !== undefined);
      assert.ok(!ops.includes("search"));
    } else assert.ok(ops.includes("search"));
    // The bridge replays old events after reconnect: nothing is applied twice.
    ws.push({ type: "event", seq: 1, event: "exists", mailbox: "INBOX", count: 7 });
    ws.push({ type: "event", seq: 2, event: "expunge", mailbox: "INBOX", uid: 2, seqnum: 2 });
    ws.push({ type: "event", seq: 3, event: "flags", mailbox: "INBOX", uid: 4, seqnum: 3, flags: ["\\Seen"] });
    await flush();
    assert.deepEqual(seen.exists, [1, 2, 3, 4, 5, 6, 7, 8]);
    assert.deepEqual(seen.expunge, [2]);
    assert.deepEqual(seen.flags, ["4:\\Seen"]);
    client.close();
  });
}

test("nothing new: the highest message returned by n:* is dropped", async () => {
  const { client, box, view, seen, timers } = await watched(["IMAP4REV1"]);
  await outage(client, box, timers, ["IMAP4REV1"]);
  assert.deepEqual(seen.exists, [1, 2, 3, 4, 5]);
  assert.equal(view.messages.size, 5);
  client.close();
});

test("UIDVALIDITY change: mailbox_reset and a full reload", async () => {
  const { client, box, view, seen, timers } = await watched(["IMAP4REV1", "CONDSTORE", "QRESYNC"]);
  box.uidValidity = 99;
  box.msgs.clear();
  box.uidNext = 1;
  box.add(2);
  await outage(client, box, timers, ["IMAP4REV1", "CONDSTORE", "QRESYNC"]);
  assert.equal(seen.reset, 1);
  assert.equal(view.uidValidity, 99);
  assert.deepEqual([...view.messages.keys()], [1, 2]);
  client.close();
});

test("live events: exists fetches only new UIDs; expunge, vanished and flags apply once", async () => {
  const { client, ws, box, view, seen } = await watched(["IMAP4REV1"]);
  box.add(1);
  ws.push({ type: "event", seq: 1, event: "exists", mailbox: "INBOX", count: 6 });
  ws.push({ type: "event", seq: 2, event: "exists", mailbox: "INBOX", count: 6 });
  await flush();
  assert.deepEqual(seen.exists, [1, 2, 3, 4, 5, 6]);
  ws.push({ type: "event", seq: 3, event: "expunge", mailbox: "INBOX", uid: 1, seqnum: 1 });
  ws.push({ type: "event", seq: 4, event: "vanished", mailbox: "INBOX", uids: "1:3", earlier: false });
  ws.push({ type: "event", seq: 5, event: "flags", mailbox: "INBOX", uid: 5, seqnum: 2, flags: ["\\Flagged"] });
  ws.push({ type: "event", seq: 6, event: "flags", mailbox: "Other", uid: 4, seqnum: 1, flags: ["\\Flagged"] });
  assert.deepEqual(seen.expunge, [1, 2, 3]);
  assert.deepEqual(seen.flags, ["5:\\Flagged"]);
  assert.deepEqual([...view.messages.keys()].sort(), [4, 5, 6]);
  client.close();
});

test("a gap triggers a resync that finds what the lost event announced", async () => {
  const { client, ws, box, view, seen } = await watched(["IMAP4REV1"]);
  box.add(1);
  box.expunge(3);
  ws.push({ type: "event", seq: 1, event: "state", state: "idle" });
  ws.push({ type: "event", seq: 5, event: "state", state: "idle" });
  await flush();
  await flush();
  assert.deepEqual(viewState(view), state(box));
  assert.deepEqual(seen.exists, [1, 2, 3, 4, 5, 6]);
  assert.deepEqual(seen.expunge, [3]);
  client.close();
});

test("flags fetched in batches without CONDSTORE", async () => {
  const { client, box, view, timers } = await watched(["IMAP4REV1"], 2500);
  const ws = await outage(client, box, timers, ["IMAP4REV1"]);
  const flagFetches = ws.sent.filter((r) => r.op === "fetch" && (r["items"] as string[]).length === 2);
  assert.equal(flagFetches.length, 3);
  assert.equal(view.messages.size, 2500);
  client.close();
});
