// An expiring token is refreshed, not looped on: with a 3 s token lifetime
// (and 1 s leeway) the bridge ends each session at expiry (4401), and the page
// reconnects with a fresh token from POST /dev/token, a few times, ending open.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { row, tid, waitFor, waitState } from '../lib/browser.mjs';
import { setup } from '../lib/fixture.mjs';

/** TTL_S and LEEWAY_S are the token lifetime and the verifier's leeway. */
const TTL_S = 3;
const LEEWAY_S = 1;
/** WATCH_MS is how long the page is watched through expiries. */
const WATCH_MS = 12_000;

test('expired token leads to a refresh, not a loop', { timeout: 60_000 }, async () => {
  const w = await setup({ bridge: { tokenTTL: `${TTL_S}s`, leeway: `${LEEWAY_S}s` } });
  try {
    const states = [];
    await w.page.exposeFunction('__e2eState', (s) => states.push(s));
    await w.page.evaluate(() => {
      const el = document.querySelector('[data-testid="conn-state"]');
      new MutationObserver(() => window.__e2eState(el.getAttribute('data-state')))
        .observe(el, { attributes: true, attributeFilter: ['data-state'] });
    });
    await w.page.waitForSelector(row(w.uids[0]));
    const start = w.tokens();
    await new Promise((r) => setTimeout(r, WATCH_MS));
    await waitState(w.page, 'open', { timeout: 10_000 });
    const used = w.tokens() - start;
    // One token per session of TTL+leeway, plus slack for a retry or two.
    const most = Math.ceil(WATCH_MS / 1000 / (TTL_S + LEEWAY_S)) + 3;
    assert.ok(used >= 1, `the token was refreshed (${used} token requests, states ${states})`);
    assert.ok(used <= most, `${used} token requests in ${WATCH_MS} ms (at most ${most}): a loop? states ${states}`);
    assert.ok(!states.includes('auth_required'), `states ${states}`);
    assert.ok(states.includes('reconnecting') || states.includes('connecting'), `expiry ended a session: states ${states}`);
    // Still live after the refreshes.
    const uid = await w.dovecot.deliver(w.user, { subject: 'After token refreshes' });
    await waitFor(async () => (await w.page.$(row(uid))) !== null, 'live mail after refreshes', TTL_S * 1000 + 5000);
    assert.equal(await w.page.getAttribute(tid('conn-state'), 'data-state'), 'open');
    console.log(`token refresh: ${used} POST /dev/token in ${WATCH_MS} ms with a ${TTL_S}s token; states ${states.join(' > ')}`);
  } catch (e) {
    e.message += w.bridge.logTail();
    throw e;
  } finally {
    await w.close();
  }
});
