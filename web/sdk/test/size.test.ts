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
