// The latency variant of the browser end-to-end tests (issue 19 item 1): when
// IMAPBRIDGE_E2E_LATENCY_MS is set, setup() (fixture.mjs) puts a Toxiproxy
// proxy (internal/faults/cmd/faultproxy, built by ci/e2e.sh) with that
// latency ± IMAPBRIDGE_E2E_JITTER_MS on both directions of every connection:
// browser ↔ bridge (page, WebSocket, transfers) and bridge ↔ Dovecot.
import { spawn } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';

/** LATENCY_MS is the delay added to each direction of every connection (0: no proxies). */
export const LATENCY_MS = Number(process.env.IMAPBRIDGE_E2E_LATENCY_MS || 0);
/** JITTER_MS is the uniform random variation of the delay (±). */
export const JITTER_MS = Number(process.env.IMAPBRIDGE_E2E_JITTER_MS || 0);
/** BINARY is where ci/e2e.sh builds faultproxy (override with IMAPBRIDGE_E2E_FAULTPROXY). */
export const BINARY = process.env.IMAPBRIDGE_E2E_FAULTPROXY ||
  path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '.out', 'faultproxy');
/** ADD_TIMEOUT_MS bounds the start of one proxy. */
export const ADD_TIMEOUT_MS = 5000;

/** FaultProxy is one faultproxy process; add() starts proxies in it. */
export class FaultProxy {
  constructor() {
    this.proc = spawn(BINARY, ['-latency', `${LATENCY_MS}ms`, '-jitter', `${JITTER_MS}ms`, '-streams', 'both'],
      { stdio: ['pipe', 'pipe', 'inherit'] });
    this.waiting = new Map();
    readline.createInterface({ input: this.proc.stdout }).on('line', (line) => {
      const [name, ...rest] = line.split(' ');
      const w = this.waiting.get(name);
      if (!w) return;
      this.waiting.delete(name);
      if (rest[0] === 'error:') w.reject(new Error(`e2e/faultproxy: ${line}`));
      else w.resolve(rest[0]);
    });
  }

  /** add starts a proxy named name from listen (default a free loopback port) to upstream and resolves with its address. */
  add(name, upstream, listen = '127.0.0.1:0') {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`e2e/faultproxy: no answer for ${name}`)), ADD_TIMEOUT_MS);
      this.waiting.set(name, { resolve: (a) => { clearTimeout(timer); resolve(a); }, reject: (e) => { clearTimeout(timer); reject(e); } });
      this.proc.stdin.write(`${name} ${listen} ${upstream}\n`);
    });
  }

  /** close ends the process (closing standard input makes it exit) and waits for it. */
  async close() {
    if (this.proc.exitCode !== null || this.proc.signalCode !== null) return;
    const exited = new Promise((r) => this.proc.once('exit', r));
    this.proc.stdin.end();
    const t = setTimeout(() => this.proc.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(t);
  }
}

/** freePort resolves with a loopback port that was free a moment ago. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** ROUND_TRIP_MS is the most one request and its answer gain through both proxies: two hops, each way latency + jitter. */
export const ROUND_TRIP_MS = 4 * (LATENCY_MS + JITTER_MS);
/** SLACK_ROUND_TRIPS is how many such round trips a bound of the unproxied run is widened by in the latency variant. */
export const SLACK_ROUND_TRIPS = 8;

/** slack returns the bound ms widened for the latency variant (ms itself without proxies). */
export function slack(ms) {
  return ms + SLACK_ROUND_TRIPS * ROUND_TRIP_MS;
}
