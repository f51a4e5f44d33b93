// Failures in words: every refusal becomes a typed reason, and retries stop
// where retrying cannot help.
import { test } from "node:test";
import assert from "node:assert/strict";
import { isAuthError, isConnectionError, type ConnectionEvent, type FailureReason } from "../src/index.js";
import { FakeWebSocket, flush, openClient, setup } from "./helpers.js";

test("close codes map to typed reasons and retry policies", async () => {
  const table: { code: number; reason?: string; want: FailureReason; state: string; min?: number; max?: number }[] = [
    { code: 4429, reason: "too many sessions for this user", want: "session_limit", state: "reconnecting", min: 30_000, max: 60_000 },
    { code: 4503, reason: "upstream unavailable", want: "upstream_down", state: "reconnecting", max: 500 },
    { code: 4503, reason: "upstream lost", want: "upstream_down", state: "reconnecting", max: 500 },
    { code: 1013, reason: "server busy", want: "bridge_busy", state: "reconnecting", max: 500 },
    { code: 1012, reason: "retry-after-ms=700", want: "bridge_draining", state: "reconnecting", min: 700, max: 701 },
    { code: 1001, want: "bridge_draining", state: "reconnecting", max: 500 },
    { code: 1011, want: "connection_lost", state: "reconnecting", max: 500 },
    { code: 1006, want: "connection_lost", state: "reconnecting", max: 500 },
    { code: 1008, reason: "ping timeout", want: "connection_lost", state: "reconnecting", max: 500 },
    { code: 1008, reason: "rate limit", want: "connection_lost", state: "reconnecting", max: 500 },
    { code: 4401, reason: "token expired", want: "token_expired", state: "auth_required" },
    { code: 4401, reason: "invalid token", want: "token_refused", state: "auth_required" },
    { code: 1008, reason: "unknown upstream", want: "token_refused", state: "auth_required" },
  ];
  for (const row of table) {
    const { client, ws } = await openClient({ token: "static-token" });
    const events: ConnectionEvent[] = [];
    client.on("connection", (e) => events.push(e));
    ws.serverClose(row.code, row.reason ?? "");
    await flush();
    const e = events[0];
    const what = `${row.code} ${row.reason ?? ""}: ${JSON.stringify(e)}`;
    assert.equal(e?.state, row.state, what);
    assert.equal(e?.reason, row.want, what);
    assert.ok(isConnectionError(e?.error) && e.error.reason === row.want && e.error.closeCode === row.code, what);
    assert.equal(e.error.detail, row.reason ?? "", what);
    if (row.min !== undefined) assert.ok((e.delayMs ?? -1) >= row.min, what);
    if (row.max !== undefined) assert.ok((e.delayMs ?? Infinity) < row.max, what);
    if (row.state === "auth_required") assert.ok(isAuthError(e.error), what);
    assert.ok(!e.error.message.includes("static-token"), "token in message");
    client.close();
  }
});

test("token refused: the provider is asked once more, then the client stops", async () => {
  let calls = 0;
  const { client, timers } = setup({ token: () => `fresh-${++calls}` });
  const events: ConnectionEvent[] = [];
  client.on("connection", (e) => events.push(e));
  await flush();
  FakeWebSocket.last.serverClose(4401, "invalid token");
  await timers.advance(1000);
  assert.equal(calls, 2, "asked the provider again");
  FakeWebSocket.last.serverClose(4401, "invalid token");
  await timers.advance(120_000);
  assert.equal(calls, 2, "no blind retries");
  assert.equal(client.state, "auth_required");
  assert.deepEqual(events.map((e) => [e.state, e.reason]), [["reconnecting", "token_refused"], ["auth_required", "token_refused"]]);
  // reconnect() starts over with the provider.
  client.reconnect();
  await flush();
  assert.equal(calls, 3);
  client.close();
});

test("an expired token after a session is just replaced, every time", async () => {
  let calls = 0;
  const { client, timers } = await openClient({ token: () => `t-${++calls}` });
  for (let i = 0; i < 4; i++) {
    FakeWebSocket.last.serverClose(4401, "token expired");
    await timers.advance(31_000);
    FakeWebSocket.last.open();
    FakeWebSocket.last.hello();
    await flush();
    assert.equal(client.state, "open", `round ${i}`);
  }
  assert.equal(calls, 5);
  client.close();
});

test("a throwing token provider is reason token_unavailable with its message, or bridge_down", async () => {
  const realFetch = globalThis.fetch;
  for (const [up, want] of [[true, "token_unavailable"], [false, "bridge_down"]] as const) {
    globalThis.fetch = (async () => {
      if (!up) throw new TypeError("Failed to fetch");
      return new Response("ready");
    }) as typeof fetch;
    try {
      const { client } = setup({ token: () => Promise.reject(new Error("token endpoint answered 403")) });
      const events: ConnectionEvent[] = [];
      client.on("connection", (e) => events.push(e));
      await flush();
      assert.equal(events[0]?.reason, want);
      assert.ok(isConnectionError(events[0]?.error) && events[0].error.detail === "token endpoint answered 403");
      client.close();
    } finally {
      globalThis.fetch = realFetch;
    }
  }
});

test("session limit: slow retries, then open resets nothing it should not", async () => {
  const { client, ws, timers } = await openClient();
  ws.serverClose(4429, "too many sessions for this user");
  await timers.advance(29_000);
  assert.equal(FakeWebSocket.instances.length, 1, "no retry before 30 s");
  await timers.advance(31_000);
  assert.equal(FakeWebSocket.instances.length, 2, "one retry within 60 s");
  client.close();
});

test("a socket that never opened is diagnosed through /readyz", async () => {
  const realFetch = globalThis.fetch;
  // "back": down for the first (CORS) request, up from the second on — the
  // bridge restarting between the probe's requests must not read as a
  // refused origin (a final state).
  type Answer = "ok" | "draining" | "cors" | "down" | "back";
  let answer: Answer = "ok";
  const asked: string[] = [];
  globalThis.fetch = (async (url: string, init?: RequestInit) => {
    asked.push(`${init?.mode} ${url}`);
    if (answer === "back" && asked.length === 1) throw new TypeError("Failed to fetch");
    if (answer === "down" || (answer === "cors" && init?.mode === "cors")) throw new TypeError("Failed to fetch");
    return new Response("", { status: answer === "draining" ? 503 : 200 });
  }) as typeof fetch;
  try {
    const table: [Answer, FailureReason, string][] = [
      ["ok", "bridge_busy", "reconnecting"],
      ["draining", "bridge_draining", "reconnecting"],
      ["cors", "origin_refused", "failed"],
      ["down", "bridge_down", "reconnecting"],
      ["back", "bridge_busy", "reconnecting"],
    ];
    for (const [a, want, state] of table) {
      answer = a;
      asked.length = 0;
      const { client, timers } = setup({ url: "wss://bridge.example/mail/ws" });
      const events: ConnectionEvent[] = [];
      client.on("connection", (e) => events.push(e));
      await flush();
      FakeWebSocket.last.serverClose(1006);
      await flush();
      assert.deepEqual([events[0]?.state, events[0]?.reason], [state, want], a);
      assert.equal(asked[0], "cors https://bridge.example/mail/readyz");
      if (state === "failed") {
        await timers.advance(120_000);
        assert.equal(FakeWebSocket.instances.length, 1, "no retry after origin_refused");
        await assert.rejects(client.ready(), (e) => isConnectionError(e) && e.reason === "origin_refused");
      }
      client.close();
    }
  } finally {
    globalThis.fetch = realFetch;
  }
});
