import { test } from "node:test";
import assert from "node:assert/strict";
import { gzipSync } from "node:zlib";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";

/** SIZE_BUDGET_BYTES is the ESM bundle's budget, minified and gzipped. */
const SIZE_BUDGET_BYTES = 8 * 1024;

test(`bundle is at most ${SIZE_BUDGET_BYTES} bytes minified+gzipped`, async () => {
  const entry = join(dirname(fileURLToPath(import.meta.url)), "../src/index.ts");
  const r = await esbuild.build({ entryPoints: [entry], bundle: true, minify: true, format: "esm", target: "es2022", write: false, platform: "neutral" });
  const file = r.outputFiles[0];
  assert.ok(file !== undefined);
  const gz = gzipSync(file.contents, { level: 9 }).length;
  console.log(`# sdk bundle: ${file.contents.length} B minified, ${gz} B minified+gzipped (budget ${SIZE_BUDGET_BYTES})`);
  assert.ok(gz <= SIZE_BUDGET_BYTES, `bundle is ${gz} B gzipped`);
});

/** UNREAD_BUDGET_BYTES is what <imapbridge-unread> (@imapbridge/sdk/unread, with find's watchStatus) may add to the core, minified+gzipped. */
const UNREAD_BUDGET_BYTES = 3 * 1024;

test(`<imapbridge-unread> adds at most ${UNREAD_BUDGET_BYTES} bytes minified+gzipped to the core`, async () => {
  const dir = join(dirname(fileURLToPath(import.meta.url)), "../src");
  const size = async (entry: string): Promise<number> => {
    const r = await esbuild.build({ entryPoints: [join(dir, entry)], bundle: true, minify: true, format: "esm", target: "es2022", write: false, platform: "neutral" });
    const f = r.outputFiles[0];
    assert.ok(f !== undefined);
    return gzipSync(f.contents, { level: 9 }).length;
  };
  const core = await size("index.ts");
  const unread = await size("unread.ts");
  console.log(`# unread bundle: ${unread} B minified+gzipped, ${unread - core} B on top of the core (budget ${UNREAD_BUDGET_BYTES})`);
  assert.ok(unread - core <= UNREAD_BUDGET_BYTES, `unread adds ${unread - core} B`);
});
