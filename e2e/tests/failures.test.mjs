// Failures in words: the page says why it is not live and what to do, for a
// refused sixth session (4429), a refused token (4401 twice: no blind retry)
// and a bridge that is down; each notice goes away once the cause is gone.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { launch, openPage, tid, waitFor, waitState } from '../lib/browser.mjs';
import { Bridge } from '../lib/bridge.mjs';
import { Dovecot } from '../lib/dovecot.mjs';
import { setup } from '../lib/fixture.mjs';

/** notice returns the failure notice's {reason, state, summary, action, hidden}. */
async function notice(page) {
  return page.$eval(tid('failure'), (n) => ({
    reason: n.dataset.reason ?? '', state: n.dataset.state ?? '', hidden: n.hidden,
    summary: n.querySelector('[data-testid="failure-summary"]').textContent,
    action: n.querySelector('[data-testid="failure-action"]').textContent,
  })).catch(() => null);
}

/** waitNotice waits until the visible notice has reason (and state, when given). */
async function waitNotice(page, reason, { state = '', timeout = 10_000 } = {}) {
  return waitFor(async () => {
    const n = await notice(page);
    return n && !n.hidden && n.reason === reason && (state === '' || n.state === state) ? n : null;
  }, `failure notice ${reason} ${state}`, timeout).catch(async (e) => {
    e.message += ` (shown: ${JSON.stringify(await notice(page))})`;
    throw e;
  });
}

test('session limit, token refused and bridge down are shown in words', { timeout: 120_000 }, async () => {
  const w = await setup({ path: 'widget.html' });
  let other;
  try {
    // Session limit: the widget page holds one session; four raw sockets of
    // the same user (opened from a page of the bridge's origin) make five.
    const holder = await w.browser.context.newPage();
    await holder.goto(w.bridge.url + 'widget.html');
    await holder.evaluate(async () => {
      window.__held = [];
      for (let i = 0; i < 4; i++) {
        const { token } = await (await fetch('/dev/token', { method: 'POST' })).json();
        const ws = new WebSocket(`ws://${location.host}/ws`, ['imapbridge.v1', 'bearer.' + token]);
        await new Promise((resolve, reject) => {
          ws.onmessage = (ev) => JSON.parse(ev.data).type === 'hello' && resolve();
          ws.onclose = (ev) => reject(new Error(`raw session ${i} closed ${ev.code} ${ev.reason}`));
        });
        window.__held.push(ws);
      }
    }).catch(async (e) => {
      // The holder's own widget may already count: then four sockets are one too many, which is the point.
      if (!/closed 4429/.test(String(e))) throw e;
    });
    // The pages of one browser share one session (SharedWorker), so the sixth comes from another browser.
    other = await launch();
    const sixth = await openPage(other.context, w.bridge.url + 'widget.html');
    const limit = await waitNotice(sixth.page, 'session_limit');
    assert.match(limit.summary, /Too many open sessions/);
    assert.match(limit.action, /Close other tabs/);
    assert.match(limit.action, /Next attempt in \d+ s/);
    const delay = Number(/in (\d+) s/.exec(limit.action)[1]);
    assert.ok(delay >= 30 && delay <= 60, `slow retry of ${delay} s`);
    console.log(`session limit: "${limit.summary} ${limit.action}"`);
    // One session ends; "Try now" connects at once.
    await holder.close();
    await waitFor(async () => {
      await sixth.page.click(tid('failure-retry'));
      await sixth.page.waitForTimeout(500);
      return (await sixth.page.getAttribute(tid('widget-state'), 'data-state')) === 'open';
    }, 'the sixth page open after a session ended', 15_000);
    assert.equal((await notice(sixth.page)).hidden, true, 'notice hidden once open');
    await other.close();
    other = undefined;

    // Token refused: this page's token endpoint hands out a token the bridge
    // cannot verify; the SDK asks once more, then stops and says so.
    const bad = await w.browser.context.newPage();
    let asked = 0;
    await bad.route('**/dev/token', async (route) => {
      asked++;
      await route.fulfill({ contentType: 'application/json',
        body: JSON.stringify({ token: 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.bm90LWEtc2lnbmF0dXJl', user: w.user.name, password: 'x', expiresIn: 60 }) });
    });
    await bad.goto(w.bridge.url + 'widget.html');
    const refused = await waitNotice(bad, 'token_refused', { state: 'auth_required' });
    assert.match(refused.summary, /did not accept this site's sign-in token/);
    await bad.waitForTimeout(5000);
    assert.equal(asked, 2, `token endpoint asked ${asked} times: once, once more, then stop`);
    assert.equal(await bad.getAttribute(tid('widget-state'), 'data-state'), 'auth_required');
    console.log(`token refused: "${refused.summary} ${refused.action}" after ${asked} token requests, none in the next 5 s`);
    await bad.close();

    // Bridge down: the live page says the bridge cannot be reached, then
    // recovers by itself when it is back.
    await waitState(w.page, 'open', { testid: 'widget-state' });
    await w.bridge.stop();
    const down = await waitNotice(w.page, 'bridge_down', { timeout: 40_000 });
    assert.match(down.summary, /cannot be reached/);
    console.log(`bridge down: "${down.summary} ${down.action}"`);
    await w.bridge.start();
    await w.page.click(tid('failure-retry'));
    await waitState(w.page, 'open', { testid: 'widget-state', timeout: 40_000 });
    assert.equal((await notice(w.page)).hidden, true);
    assert.deepEqual(w.errors, [], 'uncaught page errors');
  } catch (e) {
    e.message += w.bridge.logTail();
    throw e;
  } finally {
    await other?.close();
    await w.close();
  }
});

// A configured demo (real account) hands out tokens to loopback clients only.
// The network here is loopback only, so the non-loopback visitor comes through
// a trusted proxy hop (X-Forwarded-For, which the bridge believes from
// 127.0.0.1): the page must say in words that and why it got no token.
test('a refused development token is shown with the endpoint\'s reason', { timeout: 60_000 }, async () => {
  const dovecot = Dovecot.fromEnv();
  const bridge = new Bridge({ dovecot, user: dovecot.newUser(), trustedProxies: ['127.0.0.1/32'] });
  await bridge.start();
  const browser = await launch();
  try {
    const far = await browser.context.newPage();
    await far.setExtraHTTPHeaders({ 'X-Forwarded-For': '192.0.2.10' });
    for (const [path, state] of [['', 'conn-state'], ['widget.html', 'widget-state']]) {
      await far.goto(bridge.url + path);
      const n = await waitNotice(far, 'token_unavailable');
      assert.match(n.summary, /could not get a sign-in token/);
      const detail = await far.textContent(tid('failure-detail'));
      assert.match(detail, /answered 403: .*loopback clients only, not 192\.0\.2\.10/);
      assert.notEqual(await far.getAttribute(tid(state), 'data-state'), 'open');
      console.log(`token endpoint refused (${path || 'webmail'}): "${n.summary}" / "${detail}"`);
    }
    // The same bridge from loopback: live.
    const near = await openPage(browser.context, bridge.url + 'widget.html');
    await waitState(near.page, 'open', { testid: 'widget-state' });
  } catch (e) {
    e.message += bridge.logTail();
    throw e;
  } finally {
    await browser.close();
    await bridge.close();
  }
});
