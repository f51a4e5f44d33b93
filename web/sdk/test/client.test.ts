import { test } from "node:test";
import assert from "node:assert/strict";
import {
  Backoff, connect, isAuthError, isClosedError, isProtocolError, isQueueFullError, isServerError, isTimeoutError,
  type ConnectionEvent,
} from "../src/index.js";
import { FakeWebSocket, flush, openClient, setup } from "./helpers.js";

test("requests are correlated by id", async () => {
  const { client, ws } = await openClient();
  const a = client.status("A");
  const b = client.status("B");
  await flush();
  const [ra, rb] = ws.sent;
  ws.respond(rb!.id, { mailbox: "B", messages: 2 });
  ws.respond(ra!.id, { mailbox: "A", messages: 1 });
  assert.deepEqual({ ...(await a) }, { mailbox: "A", messages: 1 });
  assert.deepEqual({ ...(await b) }, { mailbox: "B", messages: 2 });
  client.close();
});

test("error frames reject with ServerError carrying the IMAP status", async () => {
  const { client, ws } = await openClient();
  const p = client.move("5", "Archive");
  await flush();
  ws.fail(ws.sent[0]!.id, "imap_no", "move failed", { type: "NO", code: "TRYCREATE", text: "no such mailbox" });
  await assert.rejects(p, (e) => isServerError(e) && e.code === "imap_no" && e.imap?.code === "TRYCREATE");
  client.close();
});

test("a request times out and its late answer is ignored", async () => {
  const { client, ws, timers, errors } = await openClient({ requestTimeoutMs: 1000, heartbeatTimeoutMs: 1e9 });
  const p = client.noop();
  const check = assert.rejects(p, (e) => isTimeoutError(e));
  await timers.advance(1000);
  await check;
  ws.respond(ws.sent[0]!.id);
  assert.equal(errors.length, 0);
  client.close();
});

test("close-code policy", async () => {
  const table: { code: number; reason?: string; token: "static" | "same" | "new"; state: string; delay?: number; error?: boolean }[] = [
    { code: 1000, token: "new", state: "closed" },
    { code: 1001, token: "static", state: "reconnecting" },
    { code: 1006, token: "static", state: "reconnecting" },
    { code: 1011, token: "static", state: "reconnecting" },
    { code: 1013, token: "static", state: "reconnecting" },
    { code: 1012, reason: "retry-after-ms=1234", token: "static", state: "reconnecting", delay: 1234 },
    { code: 1009, token: "static", state: "reconnecting", error: true },
    { code: 1008, token: "static", state: "auth_required" },
    { code: 4401, token: "static", state: "auth_required" },
    { code: 4401, token: "same", state: "auth_required" },
    { code: 1008, token: "same", state: "auth_required" },
    { code: 4401, token: "new", state: "open" },
  ];
  for (const row of table) {
    let n = 0;
    const token = row.token === "static" ? "tok" : row.token === "same" ? () => "tok" : () => `tok-${++n}`;
    const { client, ws, timers, errors } = await openClient({ token });
    const events: ConnectionEvent[] = [];
    client.on("connection", (e) => events.push(e));
    const pending = client.noop();
    ws.serverClose(row.code, row.reason ?? "");
    await assert.rejects(pending, (e) => isClosedError(e), `${row.code}`);
    const first = events[0];
    if (row.delay !== undefined) assert.equal(first?.delayMs, row.delay);
    if (first?.state === "reconnecting" && row.delay === undefined) assert.ok(first.delayMs !== undefined && first.delayMs >= 0 && first.delayMs < 500);
    await timers.advance(31_000);
    let state = client.state;
    if (state === "connecting" || state === "reconnecting") {
      const next = FakeWebSocket.last;
      if (next !== ws) {
        next.open();
        next.hello();
        await flush();
        state = client.state;
        if (row.token === "new") assert.deepEqual(next.protocols, ["imapbridge.v1", "bearer.tok-2"]);
      }
    }
    const want = row.state === "reconnecting" ? "open" : row.state;
    assert.equal(state, want, `code ${row.code} token ${row.token}: events ${JSON.stringify(events.map((e) => e.state))}`);
    if (row.state === "auth_required") assert.ok(events.some((e) => e.state === "auth_required" && isAuthError(e.error)));
    assert.equal(errors.some((e) => isProtocolError(e)), row.error === true, `${row.code}`);
    for (const e of errors) assert.ok(!String((e as Error).message).includes("tok"), "token in error message");
    client.close();
  }
});

test("the token provider is called on every (re)connect and the token stays out of the URL", async () => {
  let calls = 0;
  const { client, ws, timers } = await openClient({ token: async () => `secret-${++calls}`, url: "wss://bridge.example/ws" });
  assert.equal(calls, 1);
  for (let i = 0; i < 3; i++) {
    FakeWebSocket.last.serverClose(1006);
    await timers.advance(31_000);
    FakeWebSocket.last.open();
    FakeWebSocket.last.hello();
    await flush();
  }
  assert.equal(calls, 4);
  assert.equal(client.state, "open");
  for (const s of FakeWebSocket.instances) assert.ok(!s.url.includes("secret"));
  assert.deepEqual(FakeWebSocket.last.protocols, ["imapbridge.v1", "bearer.secret-4"]);
  void ws;
  client.close();
});

test("backoff: full jitter within [0, min(cap, base·2ⁿ)), reset after a stable period", async () => {
  const b = new Backoff();
  const samples: number[][] = [];
  for (let run = 0; run < 2000; run++) {
    b.reset();
    samples.push(Array.from({ length: 10 }, () => b.next()));
  }
  for (let n = 0; n < 10; n++) {
    const ceil = Math.min(30_000, 500 * 2 ** n);
    const col = samples.map((s) => s[n]!);
    assert.ok(col.every((d) => d >= 0 && d < ceil), `attempt ${n}`);
    const mean = col.reduce((a, d) => a + d, 0) / col.length;
    assert.ok(Math.abs(mean - ceil / 2) < ceil * 0.05, `attempt ${n}: mean ${mean} vs ${ceil / 2}`);
  }
  const { client, timers } = await openClient({ backoff: { random: () => 0.999 } });
  const delays: number[] = [];
  client.on("connection", (e) => e.delayMs !== undefined && delays.push(e.delayMs));
  for (let i = 0; i < 3; i++) {
    FakeWebSocket.last.serverClose(1011);
    await timers.advance(31_000);
  }
  FakeWebSocket.last.open();
  FakeWebSocket.last.hello();
  await timers.advance(10_000); // stable period
  FakeWebSocket.last.serverClose(1011);
  assert.deepEqual(delays, [499, 999, 1998, 499]);
  client.close();
});

test("send queue is bounded while offline and every promise settles on close", async () => {
  const { client } = setup({ sendQueueLimit: 3 });
  const queued = [client.noop(), client.noop(), client.noop()];
  await assert.rejects(client.noop(), (e) => isQueueFullError(e));
  client.close();
  for (const p of queued) await assert.rejects(p, (e) => isClosedError(e));
  await assert.rejects(client.noop(), (e) => isClosedError(e));
});

test("ten in-flight requests all reject when the socket closes; queued ones are sent after reconnect", async () => {
  const { client, ws, timers } = await openClient();
  const ps = Array.from({ length: 10 }, () => client.noop());
  await flush();
  assert.equal(ws.sent.length, 8, "in-flight cap from hello");
  ws.serverClose(1006);
  const settled = await Promise.allSettled(ps.slice(0, 8));
  assert.ok(settled.every((s) => s.status === "rejected" && isClosedError(s.reason)));
  await timers.advance(31_000);
  const ws2 = FakeWebSocket.last;
  ws2.open();
  ws2.hello();
  await flush();
  assert.equal(ws2.sent.length, 2);
  for (const r of ws2.sent) ws2.respond(r.id);
  await Promise.all(ps.slice(8));
  client.close();
});

test("back-pressure: requests wait while bufferedAmount is high", async () => {
  const { client, ws } = await openClient();
  ws.bufferedAmount = 10 * 1024 * 1024;
  const p = client.noop();
  await flush();
  assert.equal(ws.sent.length, 0);
  ws.bufferedAmount = 0;
  ws.push({ type: "event", seq: 1, event: "state", state: "idle" });
  const q = client.noop();
  await flush();
  assert.equal(ws.sent.length, 2);
  for (const r of ws.sent) ws.respond(r.id);
  await Promise.all([p, q]);
  client.close();
});

test("heartbeat: a noop after half the timeout, reconnect after the whole timeout of silence", async () => {
  const { client, ws, timers, errors } = await openClient({ heartbeatTimeoutMs: 10_000 });
  await timers.advance(5_000);
  assert.equal(ws.sent[0]?.op, "noop");
  await timers.advance(5_000);
  assert.equal(client.state, "reconnecting");
  assert.equal(ws.closedWith, 4000);
  assert.ok(errors.some((e) => isProtocolError(e)));
  client.close();
});

test("password mode: login after every hello, then capabilities are refreshed", async () => {
  const { client, ws } = await openClient({ password: "pw" });
  assert.equal(client.state, "connecting");
  assert.deepEqual(ws.sent.map((r) => r.op), ["login"]);
  ws.respond(ws.sent[0]!.id);
  await flush();
  assert.equal(ws.sent[1]?.op, "imaplib");
  ws.push({ type: "response", id: ws.sent[1]!.id, typ: "OK", data: ["IMAP4rev1 IDLE CONDSTORE"] });
  await flush();
  assert.equal(client.state, "open");
  assert.ok(client.capabilities.has("CONDSTORE"));
  client.close();
});

test("password refused: auth_required, no retry loop", async () => {
  const { client, ws, timers } = await openClient({ password: "bad" });
  ws.fail(ws.sent[0]!.id, "auth", "login failed", { type: "NO", code: "AUTHENTICATIONFAILED", text: "bad" });
  await flush();
  assert.equal(client.state, "auth_required");
  await timers.advance(120_000);
  assert.equal(FakeWebSocket.instances.length, 1);
  client.close();
});

test("URL policy", () => {
  const table: [string, boolean, boolean][] = [
    ["wss://bridge.example/ws", false, true],
    ["ws://bridge.example/ws", false, false],
    ["ws://bridge.example/ws", true, true],
    ["ws://localhost:8080/ws", false, true],
    ["ws://127.0.0.1:8080/ws", false, true],
    ["ws://[::1]:8080/ws", false, true],
    ["https://bridge.example/ws", false, false],
    ["wss://bridge.example/ws?token=abc", false, false],
    ["wss://u:p@bridge.example/ws", false, false],
    ["not a url", false, false],
  ];
  for (const [url, allowInsecure, ok] of table) {
    const f = () => connect({ url, token: "t", allowInsecure, WebSocket: FakeWebSocket }).close();
    if (ok) assert.doesNotThrow(f, url);
    else assert.throws(f, (e) => !String((e as Error).message).includes("abc"), url);
  }
});

test("hostile frames become onError reports, never exceptions", async () => {
  const { client, ws, errors } = await openClient();
  let events = 0;
  client.on("exists", () => events++);
  client.on("alert", () => {
    throw new Error("app handler bug");
  });
  ws.push("x".repeat(16 * 1024 * 1024 + 1));
  ws.push("{not json");
  ws.onmessage?.({ data: new ArrayBuffer(4) });
  ws.push({ type: "event", seq: 1, event: "alert", text: "<img src=x onerror=alert(1)>" });
  ws.push({ type: "event", seq: 2, event: "exists", mailbox: "INBOX", count: 1 });
  ws.push({ type: "event", seq: 3, event: "future_kind", x: 1 });
  ws.push({ type: "event", seq: 4, event: "exists", mailbox: "INBOX", count: 2 });
  assert.equal(errors.length, 4);
  assert.equal(events, 2);
  client.close();
});

test("event payloads with __proto__ keys do not pollute", async () => {
  const { client, ws } = await openClient();
  let got: unknown;
  client.on("flags", (e) => (got = e));
  ws.push(`{"type":"event","seq":1,"event":"flags","mailbox":"INBOX","uid":1,"seqnum":1,"flags":["__proto__"],"__proto__":{"polluted":1},"constructor":{"prototype":{"polluted":1}}}`);
  assert.equal(({} as Record<string, unknown>)["polluted"], undefined);
  assert.equal(Object.getPrototypeOf(got), null);
  client.close();
});

test("a seq gap is reported", async () => {
  const { client, ws } = await openClient();
  const gaps: unknown[] = [];
  client.on("gap", (g) => gaps.push(g));
  ws.push({ type: "event", seq: 1, event: "state", state: "idle" });
  ws.push({ type: "event", seq: 3, event: "state", state: "idle" });
  assert.deepEqual(gaps.map((g) => ({ ...(g as object) })), [{ expected: 2, got: 3 }]);
  client.close();
});
