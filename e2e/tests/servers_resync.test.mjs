// The SDK's resync on the servers other than Dovecot (issue 14 item 2): the
// page (the real SDK) on a bridge whose upstream is Cyrus, then Courier; the
// bridge is stopped, three messages arrive while the page is disconnected,
// the bridge comes back on the same port, and each missed message is shown
// exactly once (rows counted by data-uid: no duplicates, nothing missing),
// then live mail works again. Cyrus resyncs with CONDSTORE/QRESYNC, Courier
// (neither) with the full UID fallback: both paths are asserted by the same
// outcome. Courier's IDLE polls (about 2 s), hence the live bound.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { row, rowUids, tid, waitFor, waitState } from '../lib/browser.mjs';
import { slack } from '../lib/faultproxy.mjs';
import { setup } from '../lib/fixture.mjs';

/** SERVERS are the non-Dovecot upstreams (e2e/servers/<name>.sh). */
const SERVERS = ['cyrus', 'courier'];
/** RECONNECT_MS bounds the page's way back to "open" (backoff included). */
const RECONNECT_MS = slack(20_000);
/** LIVE_BOUND_MS bounds live mail after the reconnect (server-side IDLE polling included). */
const LIVE_BOUND_MS = slack(10_000);
/** TEST_TIMEOUT_MS bounds each scenario. */
const TEST_TIMEOUT_MS = slack(60_000);

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

for (const server of SERVERS) {
  test(`${server}: mail that arrived while disconnected is shown exactly once`, { timeout: TEST_TIMEOUT_MS }, async () => {
    const w = await setup({ server });
    try {
      await w.page.waitForSelector(row(w.uids[0]));
      await w.bridge.stop();
      await waitFor(async () => (await connState(w.page)) !== 'open', 'conn-state leaving open');
      const missed = [];
      for (let i = 1; i <= 3; i++) missed.push(await w.dovecot.deliver(w.user, { subject: `${server}: while down ${i}` }));
      assert.ok(missed.every((u) => u > 0), `APPENDUIDs ${missed}`);
      await w.bridge.start();
      await waitState(w.page, 'open', { timeout: RECONNECT_MS });
      for (const uid of missed) await w.page.waitForSelector(row(uid), { timeout: RECONNECT_MS });
      await exactlyOnce(w);
      const uid = await w.dovecot.deliver(w.user, { subject: `${server}: after the restart` });
      await w.page.waitForSelector(row(uid), { timeout: LIVE_BOUND_MS });
      await exactlyOnce(w);
      assert.deepEqual(w.errors, [], 'uncaught page errors');
    } catch (e) {
      e.message += w.bridge.logTail();
      throw e;
    } finally {
      await w.close();
    }
  });
}
