// Integration test against the real bridge (cmd/bridge, embedded default with
// its in-process IMAP server), using the `ws` package as Node's WebSocket.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import WS from "ws";
import { connect, type WebSocketConstructor } from "../src/index.js";

const repo = join(dirname(fileURLToPath(import.meta.url)), "../../..");
const skip = process.env["IMAPBRIDGE_SKIP_INTEGRATION"] === "1" ? "IMAPBRIDGE_SKIP_INTEGRATION=1"
  : spawnSync("go", ["version"]).status !== 0 ? "no Go toolchain" : false;

async function startBridge(): Promise<{ proc: ChildProcess; base: string; dir: string }> {
  const dir = mkdtempSync(join(tmpdir(), "imapbridge-sdk-"));
  const bin = join(dir, "bridge");
  const b = spawnSync("go", ["build", "-o", bin, "./cmd/bridge"], { cwd: repo, stdio: "inherit" });
  assert.equal(b.status, 0, "go build ./cmd/bridge");
  // New sample mail every second (the embedded default waits 30 s): the test waits for one.
  const proc = spawn(bin, ["-addr", "127.0.0.1:0", "-demo-mail-every", "1s"], { stdio: ["ignore", "pipe", "ignore"] });
  const base = await new Promise<string>((resolve, reject) => {
    let out = "";
    const t = setTimeout(() => reject(new Error("bridge did not start")), 20_000);
    proc.stdout?.on("data", (d: Buffer) => {
      out += d.toString();
      const m = /open (http:\/\/[^\s/]+)\//.exec(out);
      if (m?.[1] !== undefined) {
        clearTimeout(t);
        resolve(m[1]);
      }
    });
    proc.on("exit", () => reject(new Error("bridge exited: " + out)));
  });
  return { proc, base, dir };
}

test("SDK against the real bridge: list, watch INBOX, fetch, live exists", { skip, timeout: 120_000 }, async () => {
  const { proc, base, dir } = await startBridge();
  try {
    const tr = await fetch(base + "/dev/token", { method: "POST", headers: { Origin: base } });
    assert.equal(tr.status, 200);
    const dev = (await tr.json()) as { token: string; password: string };
    class OriginWS extends WS {
      constructor(url: string, protocols: string[]) {
        super(url, protocols, { origin: base });
      }
    }
    const errors: unknown[] = [];
    const client = connect({ url: base.replace("http:", "ws:") + "/ws", token: async () => dev.token, password: dev.password,
      WebSocket: OriginWS as unknown as WebSocketConstructor, onError: (e) => errors.push(e) });
    await client.ready();
    const list = await client.list();
    assert.ok(list.mailboxes.some((m) => m.name === "INBOX"), JSON.stringify(list));
    const view = client.watch("INBOX");
    const first = await view.synced();
    assert.ok(first.count > 0);
    const uid = Math.max(...view.messages.keys());
    const f = await client.fetch({ uids: String(uid) }, { items: ["uid", "envelope"] });
    assert.equal(f.messages[0]?.uid, uid);
    assert.equal(typeof f.messages[0]?.envelope?.subject, "string");
    const live = await new Promise<number>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error("no exists event within 8 s")), 8_000);
      view.on("exists", (m) => {
        clearTimeout(t);
        resolve(m.uid);
      });
    });
    assert.ok(live > uid);
    await client.logout().catch(() => undefined);
    client.close();
    assert.deepEqual(errors, []);
  } finally {
    proc.kill("SIGTERM");
    rmSync(dir, { recursive: true, force: true });
  }
});
