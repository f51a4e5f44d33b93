// One bridge session per browser: pages of one context share one WebSocket
// (in the SDK's SharedWorker) and so one IMAP connection, counted on the
// bridge (/metrics) and on Dovecot (doveadm who); closing the first page
// loses nothing. Without SharedWorker the pages elect a leader (Web Locks +
// BroadcastChannel); when the leader's page closes, another takes over and
// mail delivered around the handover reaches every remaining page.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';
import { openPage, row, tid, waitFor, waitState } from '../lib/browser.mjs';
import { setup } from '../lib/fixture.mjs';

/** LIVE_BOUND_MS bounds the arrival of new mail on every page. */
const LIVE_BOUND_MS = 5000;

/** metric reads one unlabelled metric of the bridge's /metrics. */
async function metric(bridge, name) {
  const text = await (await fetch(`http://127.0.0.1:${bridge.port}/metrics`)).text();
  const m = new RegExp(`^${name} (\\d+)`, 'm').exec(text);
  assert.ok(m, `${name} in /metrics`);
  return Number(m[1]);
}

/** imapConnections counts the user's IMAP connections as Dovecot sees them. */
function imapConnections(dovecot, user) {
  const out = execFileSync('doveadm', ['-c', `${dovecot.dir}/dovecot.conf`, 'who', '-1', user.name], { encoding: 'utf8' });
  return out.split('\n').filter((l) => l.startsWith(user.name + ' ') && /\bimap\b/.test(l)).length;
}

/** opens opens the demo and widget pages and waits until each is live. */
async function openAll(context, base, paths) {
  const pages = [];
  for (const p of paths) {
    const pg = await openPage(context, base + p);
    await waitState(pg.page, 'open', { testid: p.startsWith('widget') ? 'widget-state' : 'conn-state' });
    pages.push({ ...pg, path: p });
  }
  return pages;
}

// HANDOVER_BOUND_MS bounds each wait for mail on every page: after a leader
// hand-over the new leader dials, logs in and resyncs before the widget's
// count moves, which took over LIVE_BOUND_MS once on CI (a deadline, not a
// latency claim: the latency is measured in live.test.mjs).
const HANDOVER_BOUND_MS = 4 * LIVE_BOUND_MS;

/** seesMail waits until every page shows uid (a row on the webmail, the count on the widget). */
async function seesMail(pages, uid, unread) {
  await Promise.all(pages.map((p) => waitFor(async () => p.path.startsWith('widget')
    ? (await p.page.textContent(tid('unread-count'))).trim() === String(unread)
    : (await p.page.$(row(uid))) !== null, `${p.path} shows uid ${uid}`, HANDOVER_BOUND_MS)));
}

test('six pages (four webmail tabs, two widgets) share one WebSocket and one IMAP connection; the first page closing loses nothing', { timeout: 120_000 }, async () => {
  const w = await setup();
  try {
    const pages = [{ page: w.page, errors: w.errors, path: '' },
      ...await openAll(w.browser.context, w.bridge.url, ['', 'widget.html', '?mailbox=INBOX', '', 'widget.html'])];
    assert.equal(pages.length, 6);
    let unread = 2;
    await seesMail(pages, w.uids[0], unread);
    assert.equal(await metric(w.bridge, 'imapbridge_sessions_opened_total'), 1, 'WebSockets opened for six pages');
    assert.equal(await metric(w.bridge, 'imapbridge_sessions'), 1);
    assert.equal(imapConnections(w.dovecot, w.user), 1, 'IMAP connections on Dovecot for six pages');
    const uid1 = await w.dovecot.deliver(w.user, { subject: 'To all six' });
    await seesMail(pages, uid1, ++unread);
    // The first page (the one that opened the session) goes; the others stay live on the same socket.
    await pages[0].page.close();
    const rest = pages.slice(1);
    const uid2 = await w.dovecot.deliver(w.user, { subject: 'After the first page closed' });
    await seesMail(rest, uid2, ++unread);
    assert.equal(await metric(w.bridge, 'imapbridge_sessions_opened_total'), 1, 'no reconnect when the first page closed');
    assert.equal(imapConnections(w.dovecot, w.user), 1);
    // Read on one page, seen on the others.
    await rest[0].page.click(row(uid2));
    await seesMail(rest, uid2, --unread);
    for (const p of pages) assert.deepEqual(p.errors, [], `uncaught errors on ${p.path}`);
    console.log(`sharing (SharedWorker): 6 pages → 1 WebSocket, 1 IMAP connection; first page closed → 0 reconnects`);
  } catch (e) {
    e.message += w.bridge.logTail();
    throw e;
  } finally {
    await w.close();
  }
});

test('without SharedWorker: leader election, and the leader page closing hands over without losing mail', { timeout: 120_000 }, async () => {
  const w = await setup({ path: 'widget.html' });
  try {
    // A second profile is not needed: the pages of this test hide SharedWorker before any script runs.
    await w.page.close();
    await new Promise((r) => setTimeout(r, 4000)); // the worker's socket lingers 3 s after its last page
    const before = await metric(w.bridge, 'imapbridge_sessions_opened_total');
    await w.browser.context.addInitScript(() => { delete window.SharedWorker; });
    const pages = await openAll(w.browser.context, w.bridge.url, ['', 'widget.html', '', 'widget.html']);
    let unread = 2;
    await seesMail(pages, w.uids[0], unread);
    assert.equal(await metric(w.bridge, 'imapbridge_sessions_opened_total') - before, 1, 'one WebSocket for four pages');
    assert.equal(imapConnections(w.dovecot, w.user), 1);
    // Mail just before and just after the leader's page closes.
    const uidA = await w.dovecot.deliver(w.user, { subject: 'Before the handover' });
    const closing = pages[0].page.close();
    const uidB = await w.dovecot.deliver(w.user, { subject: 'During the handover' });
    await closing;
    const uidC = await w.dovecot.deliver(w.user, { subject: 'After the handover' });
    unread += 3;
    const rest = pages.slice(1);
    const t0 = Date.now();
    await seesMail(rest, uidC, unread);
    for (const uid of [uidA, uidB]) await seesMail(rest.filter((p) => !p.path.startsWith('widget')), uid, unread);
    const ms = Date.now() - t0;
    assert.equal(await metric(w.bridge, 'imapbridge_sessions_opened_total') - before, 2, 'one new WebSocket after the handover');
    await waitFor(async () => imapConnections(w.dovecot, w.user) === 1, 'one IMAP connection after the handover', 10_000);
    for (const p of pages) assert.deepEqual(p.errors, [], `uncaught errors on ${p.path}`);
    console.log(`sharing (leader election): 4 pages → 1 WebSocket; leader closed → 1 new WebSocket, mail A, B, C on all 3 pages within ${ms} ms of C`);
  } catch (e) {
    e.message += w.bridge.logTail();
    throw e;
  } finally {
    await w.close();
  }
});
