// @imapbridge/sdk/shared: the sharing mode follows what the platform has (the fallbacks are asserted, never skipped).
import { test } from "node:test";
import assert from "node:assert/strict";
import { connectShared, sharingMode } from "../src/shared.js";
import { FakeWebSocket } from "./helpers.js";

test("sharing mode: SharedWorker, else leader election (BroadcastChannel + Web Locks), else each tab on its own", () => {
  const g = globalThis as Record<string, unknown>;
  const names = ["SharedWorker", "WebSocket", "navigator"] as const;
  const saved = names.map((n) => Object.getOwnPropertyDescriptor(g, n));
  const set = (n: string, v: unknown) => Object.defineProperty(g, n, { value: v, configurable: true, writable: true });
  try {
    set("WebSocket", FakeWebSocket);
    set("navigator", { locks: { request: () => Promise.resolve() } });
    set("SharedWorker", class {});
    assert.equal(sharingMode(), "worker");
    assert.equal(sharingMode({ workerUrl: false }), "leader", "workerUrl: false skips the worker");
    delete g["SharedWorker"];
    assert.equal(sharingMode(), "leader", "no SharedWorker: leader election");
    set("navigator", {});
    assert.equal(sharingMode(), "none", "no Web Locks: no sharing");
    FakeWebSocket.instances = [];
    const c = connectShared({ url: "wss://bridge.example/ws", token: () => "t" });
    assert.equal(c.sharing, "none");
    c.close();
  } finally {
    names.forEach((n, i) => (saved[i] ? Object.defineProperty(g, n, saved[i]!) : delete g[n]));
  }
});
