// Builds dist/: the ESM bundle (esbuild) and the .d.ts files (tsc).
import { execFileSync } from "node:child_process";
import { rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
rmSync(join(root, "dist"), { recursive: true, force: true });
execFileSync(process.execPath, [join(root, "../node_modules/typescript/bin/tsc"), "-p", join(root, "tsconfig.json"), "--emitDeclarationOnly"], { stdio: "inherit" });
await esbuild.build({
  entryPoints: [join(root, "src/index.ts")],
  outfile: join(root, "dist/index.js"),
  bundle: true,
  format: "esm",
  platform: "neutral",
  target: "es2022",
  sourcemap: true,
});
console.log("built dist/index.js and dist/types/");
