// @imapbridge/sdk/transfers: readDownload streams with progress; a refused or cut body is a TransferError, never a short Blob.
import { test } from "node:test";
import assert from "node:assert/strict";
import type { Client } from "../src/client.js";
import { cidRefs, readDownload, replaceCids, resolveInlineImages, TransferError, httpOrigin } from "../src/transfers.js";

function serve(chunks: Uint8Array[], headers: Record<string, string>, status = 200, cut = false): void {
  globalThis.fetch = (async () => new Response(new ReadableStream<Uint8Array>({
    pull(c) {
      const next = chunks.shift();
      if (next !== undefined) c.enqueue(next);
      else if (cut) c.error(new Error("reset"));
      else c.close();
    },
  }), { status, headers })) as typeof fetch;
}

test("transfers: readDownload reports progress and returns the decoded part; cut, short or refused bodies are errors", async () => {
  const saved = globalThis.fetch;
  try {
    const a = new Uint8Array(1000).fill(1), b = new Uint8Array(24).fill(2);
    const seen: [number, number][] = [];
    serve([a, b], { "Content-Length": "1024", "Content-Type": "image/png" });
    const blob = await readDownload("http://127.0.0.1/transfer/x", (l, t) => seen.push([l, t]));
    assert.equal(blob.size, 1024);
    assert.equal(blob.type, "image/png");
    assert.deepEqual(seen, [[1000, 1024], [1024, 1024]]);
    serve([a], { "Content-Length": "1024" }, 200, true);
    await assert.rejects(readDownload("http://127.0.0.1/transfer/x"), (e: unknown) => e instanceof TransferError && e.kind === "network");
    serve([a], { "Content-Length": "1024" });
    await assert.rejects(readDownload("http://127.0.0.1/transfer/x"), (e: unknown) => e instanceof TransferError && e.message === "download cut");
    serve([], {}, 410);
    await assert.rejects(readDownload("http://127.0.0.1/transfer/x"), (e: unknown) => e instanceof TransferError && e.kind === "ticket" && e.status === 410);
    serve([], {}, 404);
    await assert.rejects(readDownload("http://127.0.0.1/transfer/x"), (e: unknown) => e instanceof TransferError && e.kind === "not_found");
    assert.equal(httpOrigin("wss://bridge.example/ws"), "https://bridge.example");
  } finally {
    globalThis.fetch = saved;
  }
});

test("transfers: cid: references resolve to data: URLs of the downloaded inline images; others stay unresolved", async () => {
  const html = `<p><img src="cid:logo@example.com"> <img src='CID:%3Cphoto@x%3E'><img src="cid:logo@example.com">` +
    `<div style="background:url(cid:bg@x)"></div><img src="cid:missing@x"><img src="cid:text@x"><img src="cid:quote@x"></p>`;
  assert.deepEqual(cidRefs(html), ["logo@example.com", "photo@x", "bg@x", "missing@x", "text@x", "quote@x"]);
  assert.equal(replaceCids('<img src="cid:a@b">', new Map([["a@b", "data:x"]])), '<img src="data:x">');
  const asked: Record<string, unknown>[] = [];
  const client = {
    request: async (op: string, args: Record<string, unknown>) => {
      assert.equal(op, "download");
      asked.push(args);
      return { url: `/transfer/${String(args["cid"])}`, expiresAt: "" };
    },
  } as unknown as Client;
  const saved = globalThis.fetch;
  try {
    globalThis.fetch = (async (url: string) => {
      const cid = decodeURIComponent(new URL(url).pathname.slice("/transfer/".length));
      if (cid === "missing@x") return new Response("no such part", { status: 404 });
      if (cid === "text@x") return new Response("hello", { headers: { "Content-Type": "text/html" } });
      if (cid === "quote@x") return new Response("x", { headers: { "Content-Type": 'image/png; a="x\\" onerror=alert(1)"' } });
      return new Response(new Uint8Array([1, 2, 3]), { headers: { "Content-Type": "image/png", "Content-Length": "3" } });
    }) as typeof fetch;
    const r = await resolveInlineImages(client, "http://127.0.0.1", { mailbox: "INBOX", uid: 7 }, html);
    assert.deepEqual([...r.resolved].sort(), ["bg@x", "logo@example.com", "photo@x", "quote@x"]);
    assert.equal(r.failed.get("missing@x")?.kind, "not_found");
    assert.equal(r.failed.get("text@x")?.status, 415);
    assert.equal((r.html.match(/data:image\/png;base64,AQID/g) ?? []).length, 4);
    assert.match(r.html, /cid:missing@x/);
    assert.ok(asked.every((a) => a["disposition"] === "inline" && a["uid"] === 7 && a["mailbox"] === "INBOX"));
    assert.equal(asked.length, 6);
    // A parameter (with quotes) on the type never reaches the HTML: just image/png.
    assert.doesNotMatch(r.html, /onerror/);
    assert.match(r.html, /<img src="data:image\/png;base64,eA=="><\/p>$/);
    // Over maxBytes: stopped, reported as too large.
    const big = await resolveInlineImages(client, "http://127.0.0.1", { mailbox: "INBOX", uid: 7 }, '<img src="cid:logo@example.com">', { maxBytes: 2 });
    assert.equal(big.failed.get("logo@example.com")?.kind, "too_large");
  } finally {
    globalThis.fetch = saved;
  }
});
