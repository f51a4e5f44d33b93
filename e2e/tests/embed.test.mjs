// docs/embedding.md followed step by step, in a browser: the SDK is built,
// packed with npm pack and installed from the tarball into a scratch site;
// the site's POST /bridge-token runs the guide's Go minting example; the
// site (its own origin, not the bridge's) serves the guide's import map and
// widget snippet, importing the installed package in the page and serving
// its shared-worker.js; the bridge lists the site in allowedOrigins and logs
// in with its master user (the example's cred "master"). The badge must show
// the unread count and follow new mail; a site not in allowedOrigins must be
// refused.
import assert from 'node:assert/strict';
import { execFileSync, execFile } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { launch, waitFor } from '../lib/browser.mjs';
import { Bridge } from '../lib/bridge.mjs';
import { Dovecot } from '../lib/dovecot.mjs';
import { SEED } from '../lib/fixture.mjs';

const ROOT = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const SDK = path.join(ROOT, 'web', 'sdk');
/** GUIDE is the document this test executes. */
const GUIDE = path.join(ROOT, 'docs', 'embedding.md');
/** LIVE_BOUND_MS bounds the badge's update after new mail. */
const LIVE_BOUND_MS = 5000;

/** blocks returns the fenced blocks of the guide in lang, in order. */
function blocks(lang) {
  const doc = fs.readFileSync(GUIDE, 'utf8');
  return [...doc.matchAll(new RegExp('```' + lang + '\\n([\\s\\S]*?)```', 'g'))].map((m) => m[1]);
}

/** run runs a command (stdout returned; stderr shown on failure). */
const run = (cmd, args, cwd, env = process.env) => execFileSync(cmd, args, { cwd, env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

/** TYPES are the Content-Types the site serves. */
const TYPES = { '.js': 'text/javascript', '.html': 'text/html; charset=utf-8', '.map': 'application/json' };

/**
 * site serves dir's node_modules, the page (html) at /, the worker at the
 * guide's /assets path, and POST /bridge-token from mint; it resolves with
 * {origin, close}.
 */
async function site({ dir, html, mint }) {
  const server = http.createServer(async (req, res) => {
    const url = new URL(req.url, 'http://x');
    try {
      if (req.method === 'POST' && url.pathname === '/bridge-token') {
        const token = await mint();
        res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' });
        res.end(JSON.stringify({ token }));
        return;
      }
      let file = '';
      if (url.pathname === '/') file = 'index.html';
      else if (url.pathname === '/assets/imapbridge-shared-worker.js') file = 'node_modules/@imapbridge/sdk/dist/shared-worker.js';
      else if (url.pathname.startsWith('/node_modules/@imapbridge/sdk/dist/')) file = path.normalize(url.pathname.slice(1));
      if (file === '' || file.includes('..')) {
        res.writeHead(404).end();
        return;
      }
      const body = file === 'index.html' ? String(html) : fs.readFileSync(path.join(dir, file));
      res.writeHead(200, { 'Content-Type': TYPES[path.extname(file)] ?? 'application/octet-stream' });
      res.end(body);
    } catch (e) {
      res.writeHead(500).end(String(e));
    }
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return { origin: `http://127.0.0.1:${server.address().port}`, close: () => new Promise((r) => server.close(r)) };
}

test('the embedding guide: tarball, Go-minted token, widget live on another origin', { timeout: 120_000 }, async () => {
  const t0 = Date.now();
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'imapbridge-e2e-embed-'));
  const mintDir = fs.mkdtempSync(path.join(ROOT, 'e2e', '.out', '.embed-mint-'));
  const cleanups = [() => fs.rmSync(scratch, { recursive: true, force: true }), () => fs.rmSync(mintDir, { recursive: true, force: true })];
  let bridge;
  try {
    // §1: build, pack, install the tarball into the site.
    run(process.execPath, [path.join(SDK, 'scripts', 'build.mjs')], SDK);
    run('npm', ['pack', '--silent', '--pack-destination', scratch], SDK);
    const tgz = fs.readdirSync(scratch).find((f) => f.endsWith('.tgz'));
    assert.ok(tgz, 'npm pack made a tarball');
    const app = path.join(scratch, 'site');
    fs.mkdirSync(app);
    fs.writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'site', private: true, type: 'module' }));
    run('npm', ['install', '--offline', '--no-audit', '--no-fund', '--silent', path.join(scratch, tgz)], app);
    assert.ok(fs.existsSync(path.join(app, 'node_modules/@imapbridge/sdk/dist/shared.js')), 'the installed package has dist/shared.js');
    const tPack = Date.now();

    // §2: the Go example, compiled inside the module (for golang-jwt).
    const [goExample] = blocks('go');
    fs.writeFileSync(path.join(mintDir, 'main.go'), goExample);
    const mintBin = path.join(scratch, 'mint');
    run('go', ['build', '-o', mintBin, './' + path.relative(ROOT, mintDir)], ROOT);

    // The user, the bridge (§3: allowedOrigins = the site; the example's upstream "mail", cred "master").
    const dovecot = Dovecot.fromEnv();
    const user = dovecot.newUser('embed');
    await dovecot.seed(user, SEED);
    const [masterUser, masterPassword] = (process.env.IMAPBRIDGE_DOVECOT_MASTER ?? 'master:master-pw-0').split(':');
    const pending = { origin: '' };
    const mint = async () => (await promisify(execFile)(mintBin, [user.name],
      { env: { ...process.env, BRIDGE_SECRET_FILE: bridge.secretFile } })).stdout.trim();
    // The site first (its origin goes into the bridge's configuration), its page once the bridge's port is known.
    let html = '';
    const s = await site({ dir: app, html: { toString: () => html }, mint });
    cleanups.push(s.close);
    pending.origin = s.origin;
    bridge = new Bridge({
      dovecot, user, configure: (c, dir) => {
        const pw = path.join(dir, 'master.pw');
        fs.writeFileSync(pw, masterPassword + '\n', { mode: 0o600 });
        const guide = JSON.parse(blocks('json')[0]); // §3's bridge.json: allowedOrigins and auth
        return {
          addr: '127.0.0.1:0',
          allowedOrigins: [s.origin],
          defaultUpstream: 'mail',
          upstreams: [{ name: 'mail', addr: dovecot.tlsAddr, security: 'tls', caFile: dovecot.ca, allowPrivate: true,
            masterUser, masterPasswordFile: pw }],
          auth: { ...guide.auth, hmacSecretFile: c.auth.hmacSecretFile },
        };
      },
    });
    await bridge.start();
    const bridgeOrigin = `http://localhost:${bridge.port}`;
    assert.notEqual(new URL(s.origin).origin, bridgeOrigin, 'the site and the bridge are different origins');

    // §4: the import map and the snippet, the bridge URL swapped for this one's.
    const [importMap, snippet] = blocks('html');
    assert.match(importMap, /importmap/);
    assert.match(snippet, /wss:\/\/bridge\.example\/ws/);
    html = `<!doctype html><html><head><meta charset="utf-8"><title>Another site</title>${importMap}</head><body>` +
      snippet.replace('wss://bridge.example/ws', `ws://localhost:${bridge.port}/ws`) + '</body></html>';

    const browser = await launch();
    cleanups.unshift(browser.close);
    const page = await browser.context.newPage();
    const errors = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.goto(s.origin + '/');
    const count = () => page.textContent('#unread').then((x) => x.trim());
    await waitFor(async () => (await count()) === '2', 'the badge at 2 unread (3 seeded, 1 seen)', 20_000)
      .catch(async (e) => { e.message += ` (badge ${await count()}, errors ${errors})${bridge.logTail()}`; throw e; });
    const tLive = Date.now();
    await dovecot.deliver(user, { subject: 'Embedded news' });
    await waitFor(async () => (await count()) === '3', 'the badge at 3 after new mail', LIVE_BOUND_MS);
    assert.equal(await page.evaluate(() => typeof SharedWorker), 'function');
    assert.deepEqual(errors, [], 'uncaught page errors');

    // A site the bridge does not list is refused at the handshake (the same page, from another origin).
    const other = await site({ dir: app, html: { toString: () => html }, mint });
    cleanups.push(other.close);
    const stranger = await browser.context.newPage();
    await stranger.goto(other.origin + '/');
    const refused = await stranger.evaluate(async (u) => new Promise((resolve) => {
      const ws = new WebSocket(u, ['imapbridge.v1']);
      ws.onopen = () => resolve('open');
      ws.onclose = (ev) => resolve(`closed ${ev.code}`);
    }), `ws://localhost:${bridge.port}/ws`);
    assert.notEqual(refused, 'open', 'a WebSocket from an origin not in allowedOrigins');
    assert.equal(await stranger.textContent('#unread').then((x) => x.trim()), '–', 'no count on the unlisted site');
    console.log(`embedding guide: ${tgz} packed+installed in ${tPack - t0} ms; badge live on ${s.origin} (bridge ${bridgeOrigin}) ` +
      `${tLive - t0} ms after start; new mail counted; unlisted origin ${other.origin}: ${refused}`);
  } finally {
    for (const c of cleanups) await c();
    await bridge?.close();
  }
});
