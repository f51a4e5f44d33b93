// The Docker demo without Docker: the binary's embedded default listening on
// all interfaces (as the image runs it), reached by the browser through a
// non-loopback address of this machine (eth0's, not localhost), so the token
// request and the WebSocket arrive from a non-loopback peer and Origin, as a
// published container port's do. The page must go live and show new mail.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import { test } from 'node:test';
import { launch, openPage, rowUids, tid, waitFor, waitState } from '../lib/browser.mjs';
import { BINARY, Embedded } from '../lib/bridge.mjs';

/** MAIL_EVERY and MAIL_MAX are the demo-mail knob of this run: quick, and few. */
const MAIL_EVERY = '2s';
const MAIL_MAX = 15;

/** externalIPv4 returns a non-internal IPv4 address of this machine, or ''. */
function externalIPv4() {
  for (const addrs of Object.values(os.networkInterfaces())) {
    for (const a of addrs ?? []) if (a.family === 'IPv4' && !a.internal && !a.address.startsWith('169.254.')) return a.address;
  }
  return '';
}

test('the embedded demo through a non-loopback address goes live and shows new mail', { timeout: 90_000 }, async (t) => {
  const ip = externalIPv4();
  if (ip === '') {
    t.skip('this machine has no non-loopback IPv4 address');
    return;
  }
  const br = new Embedded({ args: ['-demo-mail-every', MAIL_EVERY, '-demo-mail-max', String(MAIL_MAX)] });
  let browser;
  try {
    const port = await br.start();
    browser = await launch();
    const origin = `http://${ip}:${port}`;
    const { page, tokens, errors } = await openPage(browser.context, origin + '/');
    const consoleErrors = [];
    // The test's own init script (openPage's row observer, which Playwright runs in every frame) is refused
    // in the sandboxed message frame: "Blocked script execution in 'about:blank'" or "'about:srcdoc'", not the
    // page's doing. Everything else (a CSP violation, a failed fetch) counts.
    page.on('console', (m) => m.type() === 'error' && !/^Blocked script execution in 'about:(blank|srcdoc)'/.test(m.text()) && consoleErrors.push(m.text()));
    await waitState(page, 'open', { timeout: 20_000 });
    assert.ok(tokens() >= 1, 'the page got a token from POST /dev/token over the non-loopback address');
    await page.waitForSelector(tid('message-row'));
    const first = Math.max(...await rowUids(page));
    // Live: the embedded server delivers MAIL_MAX messages, one every MAIL_EVERY.
    const newest = await waitFor(async () => {
      const top = Math.max(...await rowUids(page));
      return top > first ? top : 0;
    }, 'a generated message in the list', 15_000);
    await page.waitForSelector(tid('toast', ':has-text("New mail")'), { timeout: 5000 });
    assert.equal(await page.getAttribute(tid('conn-state'), 'data-state'), 'open');
    assert.equal(new URL(page.url()).hostname, ip, 'still on the non-loopback address');
    // A sample HTML message (its banner is inline data:) opens without a CSP or network error.
    let html = false;
    for (const r of (await page.$$(tid('message-row'))).slice(0, 10)) {
      await r.click();
      if (await page.waitForSelector('#reader iframe', { timeout: 1000 }).catch(() => null)) { html = true; break; }
    }
    assert.ok(html, 'an HTML sample message among the newest ten');
    await page.waitForTimeout(500); // a blocked image would log its CSP error by now
    assert.deepEqual(consoleErrors, [], 'console errors (CSP, network) with an HTML sample open');
    const banner = await page.frameLocator('#reader iframe').locator('img[alt="banner"]').evaluate((img) => img.complete && img.naturalWidth);
    assert.equal(banner, 120, 'the inline banner image rendered');
    assert.deepEqual(errors, [], 'uncaught page errors');
    // SIGTERM with the page live: a clean exit and no WARN or ERROR line (the
    // embedded IMAP server closes only after the bridge has logged its sessions out).
    const { exit, log } = await br.close();
    assert.deepEqual(exit, { code: 0, sig: null }, 'exit status after SIGTERM');
    assert.doesNotMatch(log, /level=(WARN|ERROR)/, 'shutdown log');
    assert.match(log, /msg="shutting down[^\n]*\n[^]*msg=stopped/, 'shutdown logged');
    console.log(`embedded demo via ${origin}: open, newest uid ${first} -> ${newest}, ${tokens()} token request(s); SIGTERM: exit 0, no WARN`);
  } catch (e) {
    e.message += br.logTail();
    throw e;
  } finally {
    await browser?.close();
    await br.close();
  }
});

test('bridge -h prints the usage and exits 0', () => {
  const r = spawnSync(BINARY, ['-h'], { encoding: 'utf8' });
  assert.equal(r.status, 0, `exit status of -h (stderr: ${r.stderr})`);
  for (const flag of ['-addr', '-config', '-demo-mail-every', '-demo-mail-max', '-healthcheck']) assert.match(r.stderr, new RegExp(flag));
  assert.equal(spawnSync(BINARY, ['-no-such-flag'], { encoding: 'utf8' }).status, 1, 'an unknown flag still fails');
});
