// The bridge binary (cmd/bridge, built by ci/e2e.sh) run by a test: a JSON
// config in a temp dir whose "demo" section fronts one Dovecot user, an HMAC
// secret file that survives restarts (old tokens still verify), and
// stop/start on the same loopback port.
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** BINARY is where ci/e2e.sh builds cmd/bridge (override with IMAPBRIDGE_E2E_BRIDGE). */
export const BINARY = process.env.IMAPBRIDGE_E2E_BRIDGE ||
  path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '.out', 'bridge');
/** START_TIMEOUT_MS bounds a start until /readyz answers. */
export const START_TIMEOUT_MS = 10_000;
/** STOP_TIMEOUT_MS bounds a graceful stop (SIGTERM) before SIGKILL. */
export const STOP_TIMEOUT_MS = 12_000;
/** LOG_TAIL_BYTES is how much of the bridge's log a failure report shows. */
export const LOG_TAIL_BYTES = 4096;

const ISSUER = 'imapbridge-e2e';
const AUDIENCE = 'imapbridge';

/** Bridge is one bridge process (restartable) with its config directory. */
export class Bridge {
  /**
   * @param {object} o
   * @param {import('./dovecot.mjs').Dovecot} o.dovecot the upstream
   * @param {{name: string, password: string}} o.user the demo section's IMAP account
   * @param {string} [o.tokenTTL] the demo tokens' lifetime ("10m")
   * @param {string} [o.leeway] the verifier's clock-skew allowance, which also extends a session past exp ("" = default 30s)
   * @param {boolean} [o.tls] reach Dovecot over implicit TLS with its test CA (default) or plain
   * @param {string[]} [o.trustedProxies] peers whose X-Forwarded-For the bridge believes
   * @param {(config: object, dir: string) => object} [o.configure] rewrites the configuration before it is written
   * @param {string} [o.upstreamAddr] reach Dovecot at this address instead (a proxy in front of it)
   * @param {number} [o.pagePort] the page is opened through this loopback port (a proxy in front of the bridge), whose origin is allowed too
   */
  constructor({ dovecot, user, tokenTTL = '10m', leeway = '', tls = true, trustedProxies = [], configure = (c) => c,
    upstreamAddr = '', pagePort = 0 }) {
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'imapbridge-e2e-'));
    this.port = 0;
    this.pagePort = pagePort;
    this.proc = null;
    this.logFile = path.join(this.dir, 'bridge.log');
    const secret = path.join(this.dir, 'hmac.secret');
    fs.writeFileSync(secret, crypto.randomBytes(32).toString('hex') + '\n', { mode: 0o600 });
    const upstream = tls
      ? { name: 'dovecot', addr: upstreamAddr || dovecot.tlsAddr, security: 'tls', caFile: dovecot.ca, allowPrivate: true }
      : { name: 'dovecot', addr: upstreamAddr || dovecot.plain, security: 'plain', allowPrivate: true, allowPlaintext: true };
    this.config = path.join(this.dir, 'config.json');
    this.secretFile = secret;
    fs.writeFileSync(this.config, JSON.stringify(configure({
      addr: '127.0.0.1:0',
      defaultUpstream: 'dovecot',
      upstreams: [upstream],
      ...(trustedProxies.length > 0 ? { trustedProxies } : {}),
      ...(pagePort ? { allowedOrigins: [`http://localhost:${pagePort}`, `http://127.0.0.1:${pagePort}`] } : {}),
      auth: { issuer: ISSUER, audience: AUDIENCE, hmacSecretFile: secret, ...(leeway ? { leeway } : {}) },
      demo: { upstream: 'dovecot', imapUser: user.name, password: user.password, tokenTTL },
    }, this.dir), null, 2));
  }

  /** url is the page origin with a trailing slash (http://localhost:PORT/, the pagePort when set). */
  get url() {
    return `http://localhost:${this.pagePort || this.port}/`;
  }

  /** start runs the binary (on the port of the first start, if any) and waits until it is ready. */
  async start() {
    const addr = `127.0.0.1:${this.port}`;
    const log = fs.openSync(this.logFile, 'a');
    const proc = spawn(BINARY, ['-config', this.config, '-addr', addr, '-log-format', 'text'],
      { stdio: ['ignore', 'pipe', log] });
    fs.closeSync(log);
    this.proc = proc;
    const exited = new Promise((resolve) => proc.once('exit', (code, sig) => resolve({ code, sig })));
    this.exited = exited;
    const port = await new Promise((resolve, reject) => {
      let out = '';
      const timer = setTimeout(() => reject(new Error(`e2e/bridge: no start line in ${START_TIMEOUT_MS} ms${this.logTail()}`)), START_TIMEOUT_MS);
      proc.stdout.on('data', (d) => {
        out += d;
        const m = /(?:open|listening on) http:\/\/[^:/]+:(\d+)/.exec(out);
        if (m) { clearTimeout(timer); resolve(Number(m[1])); }
      });
      exited.then(({ code, sig }) => { clearTimeout(timer); reject(new Error(`e2e/bridge: exited (${code ?? sig}) at start${this.logTail()}`)); });
    });
    this.port = port;
    const deadline = Date.now() + START_TIMEOUT_MS;
    while (Date.now() < deadline) {
      try {
        const r = await fetch(`http://127.0.0.1:${port}/healthz`);
        if (r.ok) return;
      } catch {
        // not yet
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`e2e/bridge: /healthz not ready${this.logTail()}`);
  }

  /** stop sends SIGTERM and waits for the process to exit (SIGKILL after STOP_TIMEOUT_MS). */
  async stop() {
    const p = this.proc;
    if (!p || p.exitCode !== null || p.signalCode !== null) return;
    p.kill('SIGTERM');
    const t = setTimeout(() => p.kill('SIGKILL'), STOP_TIMEOUT_MS);
    await this.exited;
    clearTimeout(t);
    this.proc = null;
  }

  /** restart stops and starts again on the same port. */
  async restart() {
    await this.stop();
    await this.start();
  }

  /** close stops the bridge and removes its directory. */
  async close() {
    await this.stop();
    fs.rmSync(this.dir, { recursive: true, force: true });
  }

  /** logTail returns the end of the bridge's log, for failure messages. */
  logTail() {
    try {
      const s = fs.readFileSync(this.logFile, 'utf8');
      return '\n--- bridge log (tail) ---\n' + s.slice(-LOG_TAIL_BYTES);
    } catch {
      return '';
    }
  }
}

/**
 * Embedded is the binary's embedded default (no configuration: in-process
 * IMAP server with sample mail, open token endpoint), as `docker run` starts
 * it, listening on addr (default all interfaces, a free port).
 */
export class Embedded {
  /**
   * @param {object} [o]
   * @param {string} [o.addr] listen address ("0.0.0.0:0")
   * @param {string[]} [o.args] extra flags (-demo-mail-every, -demo-mail-max)
   */
  constructor({ addr = '0.0.0.0:0', args = [] } = {}) {
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'imapbridge-e2e-embedded-'));
    this.logFile = path.join(this.dir, 'bridge.log');
    this.addr = addr;
    this.args = args;
    this.port = 0;
    this.proc = null;
  }

  /** start runs the binary and resolves with the port once /healthz answers. */
  async start() {
    const log = fs.openSync(this.logFile, 'a');
    const proc = spawn(BINARY, ['-addr', this.addr, '-log-format', 'text', ...this.args], { stdio: ['ignore', 'pipe', log] });
    fs.closeSync(log);
    this.proc = proc;
    this.exited = new Promise((resolve) => proc.once('exit', (code, sig) => resolve({ code, sig })));
    this.stdout = '';
    this.port = await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`e2e/bridge: no start line in ${START_TIMEOUT_MS} ms${this.logTail()}`)), START_TIMEOUT_MS);
      proc.stdout.on('data', (d) => {
        this.stdout += d;
        const m = /open http:\/\/[^:/]+:(\d+)\//.exec(this.stdout);
        if (m) { clearTimeout(timer); resolve(Number(m[1])); }
      });
      this.exited.then(({ code, sig }) => { clearTimeout(timer); reject(new Error(`e2e/bridge: exited (${code ?? sig}) at start${this.logTail()}`)); });
    });
    const deadline = Date.now() + START_TIMEOUT_MS;
    while (Date.now() < deadline) {
      try {
        if ((await fetch(`http://127.0.0.1:${this.port}/healthz`)).ok) return this.port;
      } catch {
        // not yet
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`e2e/bridge: /healthz not ready${this.logTail()}`);
  }

  /** close sends SIGTERM, waits for the exit (SIGKILL after STOP_TIMEOUT_MS), removes the directory and returns the exit. */
  async close() {
    let exit = null;
    const p = this.proc;
    if (p && p.exitCode === null && p.signalCode === null) {
      p.kill('SIGTERM');
      const t = setTimeout(() => p.kill('SIGKILL'), STOP_TIMEOUT_MS);
      exit = await this.exited;
      clearTimeout(t);
    }
    this.proc = null;
    const log = this.log();
    fs.rmSync(this.dir, { recursive: true, force: true });
    return { exit, log };
  }

  /** log returns the bridge's log so far. */
  log() {
    try {
      return fs.readFileSync(this.logFile, 'utf8');
    } catch {
      return '';
    }
  }

  /** logTail returns the end of the bridge's log, for failure messages. */
  logTail() {
    return '\n--- bridge log (tail) ---\n' + this.log().slice(-LOG_TAIL_BYTES);
  }
}
