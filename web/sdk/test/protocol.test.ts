import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { buildRequest, compactUids, parseFrame, parseUidSet, isProtocolError, isServerError, type Client } from "../src/index.js";
import { inRanges, chunkUids } from "../src/uidset.js";
import { openClient, FakeWebSocket } from "./helpers.js";
import { downloadUrl, uploadMessage } from "../src/transfers.js";
import { find, sort, thread, watchStatus, StatusWatch } from "../src/find.js";

/** StatusWatchFor is a watch never started, to send unwatch. */
class StatusWatchFor extends StatusWatch { constructor(c: Client) { super(c, undefined); } }
import { submit, saveDraft } from "../src/compose.js";
import { gmailSearch, storeLabels } from "../src/gmail.js";

const here = dirname(fileURLToPath(import.meta.url));
const testdata = join(here, "../../../bridge/protocol/testdata");
const fixture = (name: string): string => readFileSync(join(testdata, name), "utf8").trimEnd();
const bytes = (b64: string): Uint8Array => Uint8Array.from(Buffer.from(b64, "base64"));

test("every server-frame fixture parses to the same data", () => {
  const names = readdirSync(testdata).filter((f) => f.endsWith(".json") && !f.startsWith("request_"));
  assert.ok(names.length >= 30, `found ${names.length} fixtures`);
  for (const n of names) {
    const text = fixture(n);
    const f = parseFrame(text);
    assert.deepEqual(JSON.parse(JSON.stringify(f)), JSON.parse(text), n);
    const kind = n.replace(".json", "").split("_")[0];
    assert.equal(f.type, kind, n);
  }
});

// Each request fixture and the SDK call that must produce it byte for byte (ids aside).
const calls: [string, (c: Client) => Promise<unknown>][] = [
  ["request_append.json", (c) => c.append("Sent", bytes("RnJvbTogYWxpY2VAZXhhbXBsZS5jb20NClN1YmplY3Q6IGhpDQoNCmhlbGxvDQo="), { flags: ["\\Seen"], date: new Date("2026-11-22T10:00:00Z") })],
  ["request_copy.json", (c) => c.copy("5:7", "Archive")],
  ["request_download.json", (c) => downloadUrl(c, "http://localhost", { mailbox: "INBOX", uidValidity: 7, uid: 42, part: "2", disposition: "inline" })],
  ["request_upload.json", (c) => uploadMessage(c, "http://localhost", "Drafts", new Blob([new Uint8Array(5242880)]), { flags: ["\\Draft"] })],
  ["request_create.json", (c) => c.create("Projects/2026")],
  ["request_delete.json", (c) => c.delete("Projects/2026")],
  ["request_expunge.json", (c) => c.expunge("5:7")],
  ["request_fetch.json", (c) => c.fetch({ uids: "1:*" }, { vanished: true, changedSince: 7,
    body: [{ partial: { length: 4096, offset: 0 }, peek: true, section: "TEXT" }],
    items: ["uid", "flags", "envelope", "bodystructure", "size", "internaldate", "modseq"] })],
  ["request_imaplib.json", (c) => c.imaplib("fetch", "1:3", "(FLAGS)")],
  ["request_imaplib_append.json", (c) => c.imaplib("append", "INBOX", "(\\Seen)", null, bytes("U3ViamVjdDogaGkNCg0KaGVsbG8NCg=="))],
  ["request_imaplib_uid.json", (c) => c.imaplib("uid", "search", null, "UNSEEN")],
  ["request_imaplib_select.json", (c) => c.imaplib("select", "INBOX", true)],
  ["request_imaplib_partial.json", (c) => c.imaplib("partial", 1, "BODY[TEXT]", 0, 1024)],
  ["request_list.json", (c) => c.list({ status: ["MESSAGES", "UNSEEN"], specialUse: true, pattern: "*" })],
  ["request_login.json", (c) => c.login("correct horse battery staple")],
  ["request_logout.json", (c) => c.logout()],
  ["request_move.json", (c) => c.move("5:7", "Archive")],
  ["request_noop.json", (c) => c.noop()],
  ["request_rename.json", (c) => c.rename("Projects", "Archive/Projects")],
  ["request_search.json", (c) => c.search(["UNSEEN", "SINCE 1-Feb-2026"])],
  ["request_select.json", (c) => c.select("INBOX", { qresync: { knownUids: "1:9", modSeq: 5, uidValidity: 1 }, condstore: true })],
  ["request_status.json", (c) => c.status("INBOX", ["MESSAGES", "UNSEEN", "UIDNEXT", "UIDVALIDITY", "HIGHESTMODSEQ"])],
  ["request_store.json", (c) => c.store("5", "add", ["\\Seen"], { unchangedSince: 12, silent: true })],
  ["request_store_labels.json", (c) => storeLabels(c, "5", "add", ["foo", "\\Important"])],
  ["request_search_gmail.json", (c) => gmailSearch(c, "has:attachment in:unread")],
  ["request_subscribe.json", (c) => c.subscribe("Projects")],
  ["request_unsubscribe.json", (c) => c.unsubscribe("Projects")],
  ["request_find.json", (c) => find(c, { not: [{ header: [{ name: "X-Spam", value: "yes" }] }], from: ["alice"], text: ["budget"], since: "2024-03-01",
    before: "2024-04-01", notFlags: ["\\Deleted"], or: [[{ flags: ["\\Flagged"] }, { larger: 4096 }]] }, { offset: 0, limit: 50 })],
  ["request_sort.json", (c) => sort(c, [{ key: "date", reverse: true }, { key: "subject", reverse: false }], { notFlags: ["\\Deleted"] }, { limit: 100 })],
  ["request_thread.json", (c) => thread(c, { algorithm: "references", where: { since: "2024-01-01" }, reverse: true, limit: 20 })],
  ["request_watch.json", (c) => watchStatus(c, { mailboxes: ["INBOX", "Archive", "Entwürfe"] })],
  ["request_unwatch.json", (c) => new StatusWatchFor(c).close()],
  ["request_submit.json", (c) => submit(c, {
    from: { name: "Alice", email: "alice@example.com" }, to: [{ name: "Bob", email: "bob@example.com" }],
    cc: [{ email: "carol@example.com" }], bcc: [{ email: "dave@example.com" }], subject: "Re: Quarterly report",
    text: "Looks good.\n\nAlice",
    attachments: [{ contentType: "application/pdf", filename: "report.pdf", part: "1", uid: 7, uidValidity: 1700000001, mailbox: "Drafts" }],
    inReplyTo: "r1@example.com", references: ["r0@example.com", "r1@example.com"],
    original: { action: "reply", uid: 42, uidValidity: 1, mailbox: "INBOX" }, draft: { uid: 8, uidValidity: 1700000001, mailbox: "Drafts" },
  })],
  ["request_saveDraft.json", (c) => saveDraft(c, { from: { email: "alice@example.com", name: "Alice" }, to: [{ email: "bob@example.com" }],
    subject: "Draft", text: "Half written", draft: { mailbox: "Drafts", uid: 8 } })],
];

test("the SDK produces every request fixture byte-compatibly", async () => {
  const covered = new Set(calls.map((c) => c[0]));
  covered.add("request_auth.json"); // the SDK sends the token as a subprotocol; checked below
  for (const n of readdirSync(testdata).filter((f) => f.startsWith("request_"))) assert.ok(covered.has(n), `no SDK call for ${n}`);
  for (const [name, call] of calls) {
    const { client, ws } = await openClient();
    void call(client).catch(() => undefined);
    const want = fixture(name);
    const sent = ws.sent[ws.sent.length - 1];
    assert.ok(sent !== undefined, name);
    const got = JSON.stringify({ ...sent, id: (JSON.parse(want) as { id: string }).id }, null, 2);
    assert.equal(got, want, name);
    client.close();
  }
  assert.equal(JSON.stringify(buildRequest("a1", "auth", { token: "eyJhbGciOiJIUzI1NiIsInR5cCI6ImF0K2p3dCJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJl" }), null, 2), fixture("request_auth.json"));
});

test("an imaplib exception rejects with ServerError naming it (fixtures error_imaplib*.json)", async () => {
  for (const [name, exc] of [["error_imaplib.json", "error"], ["error_imaplib_abort.json", "abort"], ["error_imaplib_readonly.json", "readonly"]]) {
    const { client, ws } = await openClient();
    const p = client.imaplib("noop");
    await new Promise((r) => setTimeout(r, 0));
    const frame = JSON.parse(fixture(name!)) as { id: string; error: { imaplib: { message: string } } };
    ws.push({ ...frame, id: ws.sent[ws.sent.length - 1]!.id });
    await assert.rejects(p, (e) => isServerError(e) && e.code === "imaplib" && e.imaplib?.exception === exc &&
      e.imaplib?.message === frame.error.imaplib.message && e.message.includes(frame.error.imaplib.message));
    client.close();
  }
});

test("buildRequest drops undefined and unknown members", () => {
  assert.deepEqual(buildRequest("x", "noop", { extra: 1 }), { id: "x", op: "noop" });
  assert.deepEqual(buildRequest("x", "status", { mailbox: "A", items: undefined }), { id: "x", op: "status", mailbox: "A" });
});

test("parseFrame refuses bad input without throwing anything but ProtocolError", () => {
  const cases: [string, unknown][] = [
    ["binary", new Uint8Array(3)],
    ["oversized", "x".repeat(16 * 1024 * 1024 + 1)],
    ["malformed JSON", "{\"type\":"],
    ["array", "[1]"],
    ["unknown type", "{\"type\":\"nope\"}"],
    ["response without id", "{\"type\":\"response\"}"],
    ["event without seq", "{\"type\":\"event\",\"event\":\"exists\"}"],
    ["deep nesting", "[".repeat(200000) + "]".repeat(200000)],
  ];
  for (const [name, data] of cases) assert.throws(() => parseFrame(data), (e) => isProtocolError(e), name);
});

test("server-derived keys never reach object prototypes", () => {
  const text = `{"type":"response","id":"f","result":{"messages":[{"seq":1,"uid":1,"bodyStructure":{"part":"","type":"text","subtype":"plain",
    "params":{"__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":true}},"prototype":"x"}}}],"__proto__":{"polluted":true}}}`;
  const f = parseFrame(text) as { result: { messages: { bodyStructure: { params: Record<string, unknown> } }[] } };
  assert.equal(({} as Record<string, unknown>)["polluted"], undefined);
  assert.equal(Object.getPrototypeOf(f), null);
  const params = f.result.messages[0]?.bodyStructure.params;
  assert.ok(params !== undefined);
  assert.equal(Object.getPrototypeOf(params), null);
  assert.deepEqual(Object.keys(params), ["__proto__", "constructor", "prototype"]);
  assert.equal(Object.getPrototypeOf(params["__proto__"]), null);
});

test("uid sets", () => {
  const table: [string, [number, number][] | undefined][] = [
    ["", []], ["1:3,7", [[1, 3], [7, 7]]], ["9:*", [[9, 4294967295]]], ["5:2", [[2, 5]]],
    ["0", undefined], ["1:2:3", undefined], ["a", undefined], ["1,,2", undefined], ["4294967296", undefined],
  ];
  for (const [s, want] of table) assert.deepEqual(parseUidSet(s), want, s);
  const r = parseUidSet("1:4294967295");
  assert.ok(r !== undefined && inRanges(r, 4000000000) && !inRanges(r, 0));
  assert.equal(compactUids([7, 1, 2, 3, 9, 10]), "1:3,7,9:10");
  assert.equal(compactUids([]), "");
  assert.deepEqual(chunkUids([1, 2, 3, 5, 6], 2), ["1:2", "3,5", "6"]);
});

void FakeWebSocket;
