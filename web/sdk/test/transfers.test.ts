// @imapbridge/sdk/transfers: readDownload streams with progress; a refused or cut body is a TransferError, never a short Blob.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readDownload, TransferError, httpOrigin } from "../src/transfers.js";

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
