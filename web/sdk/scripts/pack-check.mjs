// The SDK as a user gets it (docs/embedding.md §1): build, npm pack, install
// the tarball into a scratch project (no registry: the SDK has no
// dependencies), import every entry point from Node, and type-check a
// TypeScript file that uses them against the packed declarations.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const tsc = join(root, "../node_modules/typescript/bin/tsc");
const scratch = mkdtempSync(join(tmpdir(), "imapbridge-pack-"));
const run = (cmd, args, cwd) => execFileSync(cmd, args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] });
try {
  run(process.execPath, [join(root, "scripts/build.mjs")], root);
  run("npm", ["pack", "--silent", "--pack-destination", scratch], root);
  const tgz = readdirSync(scratch).find((f) => f.endsWith(".tgz"));
  if (tgz === undefined) throw new Error("npm pack made no tarball");
  const app = join(scratch, "app");
  run("mkdir", ["-p", app], scratch);
  writeFileSync(join(app, "package.json"), JSON.stringify({ name: "scratch", private: true, type: "module" }));
  run("npm", ["install", "--offline", "--no-audit", "--no-fund", "--silent", join(scratch, tgz)], app);
  writeFileSync(join(app, "node.mjs"), `
import { connect, Client } from "@imapbridge/sdk";
import { connectShared, sharingMode } from "@imapbridge/sdk/shared";
import { explainFailure } from "@imapbridge/sdk/explain";
import "@imapbridge/sdk/transfers";
import { reply } from "@imapbridge/sdk/compose";
if (typeof reply !== "function") throw new Error("compose");
if (typeof connect !== "function" || typeof Client !== "function" || typeof connectShared !== "function") throw new Error("missing exports");
if (sharingMode() !== "none") throw new Error("Node has neither SharedWorker nor Web Locks: " + sharingMode());
if (!explainFailure("session_limit").summary) throw new Error("explainFailure");
console.log("imported");
`);
  if (run(process.execPath, ["node.mjs"], app).trim() !== "imported") throw new Error("Node import failed");
  writeFileSync(join(app, "main.ts"), `
import { connect, type ConnectionEvent } from "@imapbridge/sdk";
import { connectShared, type SharingMode } from "@imapbridge/sdk/shared";
import { explainFailure } from "@imapbridge/sdk/explain";
const c = connectShared({ url: "wss://bridge.example/ws", workerUrl: "/w.js", token: async () => "t" });
const mode: SharingMode = c.sharing;
c.on("connection", (e: ConnectionEvent) => { if (e.reason !== undefined) console.log(explainFailure(e.reason).summary, mode); });
const view = c.watch("INBOX", { readOnly: true, items: ["uid", "flags"] });
view.on("change", () => console.log(view.messages.size));
void connect;
`);
  writeFileSync(join(app, "tsconfig.json"), JSON.stringify({ compilerOptions: { target: "ES2022", module: "ESNext",
    moduleResolution: "Bundler", lib: ["ES2022", "DOM"], strict: true, noEmit: true, types: [] }, include: ["main.ts"] }));
  run(process.execPath, [tsc, "-p", "tsconfig.json"], app);
  console.log(`pack-check: ${tgz} installs into a scratch project, imports from Node, type-checks`);
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
