// The page survives server restarts by itself: the bridge restarted (same
// port), and separately Dovecot restarted (stopped, or killed with SIGKILL),
// while the page stays open. Mail
// that arrived meanwhile is shown exactly once (rows counted by data-uid:
// no duplicates, nothing missing), and live mail works again afterwards.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { row, rowUids, screenshot, tid, waitFor, waitState } from '../lib/browser.mjs';
import { setup } from '../lib/fixture.mjs';

/** RECONNECT_MS bounds the page's way back to "open" (backoff included). */
const RECONNECT_MS = 20_000;
/** LIVE_BOUND_MS bounds live mail after the reconnect. */
const LIVE_BOUND_MS = 2000;
/** TEST_TIMEOUT_MS bounds each scenario. */
const TEST_TIMEOUT_MS = 60_000;

// connState returns the page's data-state of conn-state.
const connState = (page) => page.getAttribute(tid('conn-state'), 'data-state');

// exactlyOnce asserts that the page's rows are the server's INBOX UIDs, each once.
async function exactlyOnce(w) {
  const c = await w.imap();
  let server;
  try {
    server = await c.uids('INBOX');
  } finally {
    await c.logout();
  }
  const shown = await waitFor(async () => {
    const u = await rowUids(w.page);
    return u.length >= server.length ? u : null;
  }, `${server.length} rows`, RECONNECT_MS);
  assert.equal(new Set(shown).size, shown.length, `duplicate rows: ${shown}`);
  assert.deepEqual([...shown].sort((a, b) => a - b), server, 'rows = server UIDs');
}

// liveAgain checks that a message delivered now reaches the page promptly.
async function liveAgain(w, subject) {
  const uid = await w.dovecot.deliver(w.user, { subject });
  await w.page.waitForSelector(row(uid), { timeout: LIVE_BOUND_MS });
}

test('bridge restarted while the page is open', { timeout: TEST_TIMEOUT_MS }, async () => {
  const w = await setup();
  try {
    await w.page.waitForSelector(row(w.uids[0]));
    await w.bridge.stop();
    await waitFor(async () => (await connState(w.page)) !== 'open', 'conn-state leaving open');
    const missed = [];
    for (let i = 1; i <= 3; i++) missed.push(await w.dovecot.deliver(w.user, { subject: `While the bridge was down ${i}` }));
    await screenshot(w.page, 'reconnecting');
    await w.bridge.start();
    await waitState(w.page, 'open', { timeout: RECONNECT_MS });
    for (const uid of missed) await w.page.waitForSelector(row(uid), { timeout: RECONNECT_MS });
    await exactlyOnce(w);
    await liveAgain(w, 'After the bridge restart');
    await exactlyOnce(w);
    assert.ok(w.tokens() >= 2, `a new token per connection (${w.tokens()} token requests)`);
    assert.deepEqual(w.errors, [], 'uncaught page errors');
  } catch (e) {
    e.message += w.bridge.logTail();
    throw e;
  } finally {
    await w.close();
  }
});

// Dovecot stopped (its clients get BYE) or killed with SIGKILL (no BYE: the
// kernel resets the connections, security.md E5) during IDLE, then resumed on
// the same ports: the SDK reconnects with its full-jitter backoff.
for (const [how, down] of [['restarted', (d) => d.stop()], ['killed with SIGKILL and restarted', (d) => d.crash()]]) {
  test(`Dovecot ${how} while the page is open`, { timeout: TEST_TIMEOUT_MS }, async () => {
    const w = await setup();
    try {
      await w.page.waitForSelector(row(w.uids[0]));
      down(w.dovecot);
      await waitFor(async () => (await connState(w.page)) !== 'open', 'conn-state leaving open', RECONNECT_MS);
      // Mail that lands in the Maildir while the server is down gets its UIDs
      // when Dovecot is back.
      w.dovecot.dropInMaildir(w.user, { subject: 'Delivered while Dovecot was down 1' });
      w.dovecot.dropInMaildir(w.user, { subject: 'Delivered while Dovecot was down 2' });
      w.dovecot.resume();
      await waitState(w.page, 'open', { timeout: RECONNECT_MS });
      await waitFor(async () => {
        const subjects = await w.page.$$eval(tid('row-subject'), (els) => els.map((e) => e.textContent));
        return subjects.filter((s) => s.startsWith('Delivered while Dovecot was down')).length === 2;
      }, 'the two messages delivered during the outage', RECONNECT_MS);
      await exactlyOnce(w);
      await liveAgain(w, `After the Dovecot ${how}`);
      await exactlyOnce(w);
      assert.deepEqual(w.errors, [], 'uncaught page errors');
    } catch (e) {
      e.message += w.bridge.logTail();
      throw e;
    } finally {
      w.dovecot.resume(); // never leave the shared instance stopped
      await w.close();
    }
  });
}
