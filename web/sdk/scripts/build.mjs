// Builds dist/: one ESM bundle per entry point (esbuild) and the .d.ts files (tsc).
import { execFileSync } from "node:child_process";
import { rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";

/** ENTRY_POINTS are the package's entry points (package.json "exports"), each bundled on its own. */
export const ENTRY_POINTS = ["index", "explain", "shared", "shared-worker", "transfers", "find", "compose", "unread", "gmail"];

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
rmSync(join(root, "dist"), { recursive: true, force: true });
execFileSync(process.execPath, [join(root, "../node_modules/typescript/bin/tsc"), "-p", join(root, "tsconfig.json"), "--emitDeclarationOnly"], { stdio: "inherit" });
await esbuild.build({
  entryPoints: ENTRY_POINTS.map((e) => join(root, "src", e + ".ts")),
  outdir: join(root, "dist"),
  bundle: true,
  format: "esm",
  platform: "neutral",
  target: "es2022",
  sourcemap: true,
});
console.log(`built ${ENTRY_POINTS.map((e) => `dist/${e}.js`).join(", ")} and dist/types/`);
