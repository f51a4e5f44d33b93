// storm.mjs — N clients of the real SDK (web/sdk/dist, built by `npm run build` in web/) against one
// bridge, for the reconnect-storm benchmark (bench/bridge/cmd/storm drives it; issue 19 item 2).
//
//   node bench/bridge/storm/storm.mjs <ws-url> <n> <hmac-secret-hex> <imap-user> <imap-password>
//
// Every client mints its own HS256 token on each (re)connect, logs in with the password and
// selects INBOX (the SDK re-selects it after every reconnect). The script records, per client,
// every WebSocket attempt (the moment the SDK constructs a WebSocket) and every backoff delay the
// SDK chose ("reconnecting" events: delayMs, attempt, close code). It prints "ready" once all N are
// open with INBOX selected, then "status <unix ms> <open> <attempts>" every 250 ms; on the stdin
// line "report" it prints one JSON object with everything recorded (and the last connection state
// of every client not open) and exits.
import { createHmac } from "node:crypto";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath, pathToFileURL } from "node:url";

const repo = join(dirname(fileURLToPath(import.meta.url)), "../../..");
const require = createRequire(join(repo, "web/package.json"));
const WS = require("ws");
const { connect } = await import(pathToFileURL(join(repo, "web/sdk/dist/index.js")).href);

const [url, nArg, secretHex, user, password] = process.argv.slice(2);
const n = Number(nArg);
if (!url || !(n > 0) || !secretHex || !user || !password) {
  console.error("usage: storm.mjs <ws-url> <n> <hmac-secret-hex> <imap-user> <imap-password>");
  process.exit(2);
}
const secret = Buffer.from(secretHex, "hex");
const ORIGIN = "http://bench.localhost"; // bench/bridge.Origin
const b64url = (v) => Buffer.from(typeof v === "string" ? v : JSON.stringify(v)).toString("base64url");

/** mint signs a bench token (bench/bridge: issuer imapbridge-bench, upstream bench, password mode). */
function mint() {
  const now = Math.floor(Date.now() / 1000);
  const head = b64url({ alg: "HS256", typ: "imapbridge+jwt" });
  const body = b64url({ iss: "imapbridge-bench", aud: "imapbridge", iat: now, exp: now + 600,
    sub: user, ups: "bench", imap_user: user, cred: "password", scope: "read" });
  const sig = createHmac("sha256", secret).update(`${head}.${body}`).digest("base64url");
  return `${head}.${body}.${sig}`;
}

const attempts = []; // [client, unix ms] per WebSocket constructed
const delays = []; // [client, unix ms, delayMs, attempt, closeCode]
const opens = []; // [client, unix ms] per "open"
let open = 0;
const isOpen = new Array(n).fill(false);
const last = new Array(n).fill(null); // [state, reason, close code] of each client's last connection event
const clients = [];
for (let i = 0; i < n; i++) {
  class CountingWS extends WS {
    constructor(u, protocols) {
      attempts.push([i, Date.now()]);
      super(u, protocols, { origin: ORIGIN });
    }
  }
  const c = connect({ url, token: async () => mint(), password, WebSocket: CountingWS, onError: () => undefined });
  c.on("connection", (ev) => {
    const now = Date.now();
    last[i] = [ev.state, ev.reason ?? "", ev.closeCode ?? 0];
    if (ev.state === "open") {
      opens.push([i, now]);
      if (!isOpen[i]) (isOpen[i] = true), open++;
    } else {
      if (isOpen[i]) (isOpen[i] = false), open--;
      if (ev.state === "reconnecting") delays.push([i, now, ev.delayMs, ev.attempt, ev.closeCode ?? 0]);
    }
  });
  clients.push(c);
  c.select("INBOX").catch(() => undefined);
  if (i % 50 === 49) await new Promise((r) => setTimeout(r, 20)); // open the first connections gently
}
await Promise.all(clients.map((c) => c.ready().catch(() => undefined)));
const selectedAll = async () => {
  for (;;) {
    if (open === n) return;
    await new Promise((r) => setTimeout(r, 50));
  }
};
await selectedAll();
console.log("ready");
const tick = setInterval(() => console.log(`status ${Date.now()} ${open} ${attempts.length}`), 250);

const rl = createInterface({ input: process.stdin });
rl.on("line", (line) => {
  if (line.trim() !== "report") return;
  clearInterval(tick);
  const stuck = last.map((l, i) => [i, ...(l ?? ["none", "", 0])]).filter((l) => l[1] !== "open");
  for (const c of clients) c.close();
  // A pipe's writes are asynchronous in Node: exit only once the report is out.
  process.stdout.write(JSON.stringify({ n, attempts, delays, opens, stuck }) + "\n", () => process.exit(0));
});
rl.on("close", () => process.exit(0));
