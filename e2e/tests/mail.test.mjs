// Reading and changing mail as a person would: folders, a message list, the
// message view (sandboxed HTML, remote images blocked until asked), flag,
// mark read, move and delete — each change checked on the IMAP side.
import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, test } from 'node:test';
import { openPage, row, rowUids, screenshot, tid, waitFor, waitState } from '../lib/browser.mjs';
import { slack } from '../lib/faultproxy.mjs';
import { SEED, setup } from '../lib/fixture.mjs';

/** TEST_TIMEOUT_MS bounds each scenario (widened in the latency variant). */
const TEST_TIMEOUT_MS = slack(30_000);

/** PIXEL is a 1×1 GIF, the "remote image" a tracker would serve. */
const PIXEL = Buffer.from('R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7', 'base64');

let w;
// tracker is a loopback HTTP server standing for a remote image host: its
// hit count is the truth about what reached the network.
let tracker;
let hits = 0;
before(async () => {
  tracker = http.createServer((req, res) => {
    hits++;
    res.writeHead(200, { 'Content-Type': 'image/gif', 'Cache-Control': 'no-store' });
    res.end(PIXEL);
  });
  await new Promise((r) => tracker.listen(0, '127.0.0.1', r));
  const seed = structuredClone(SEED);
  seed.messages[2].html = seed.messages[2].html.replace('http://127.0.0.1:9/', `http://127.0.0.1:${tracker.address().port}/`);
  w = await setup({ seed });
}, { timeout: slack(60_000) });
after(async () => {
  await w?.close();
  tracker?.close();
});

// onServer polls the user's mailbox over raw IMAP until check(client) is truthy.
async function onServer(what, check) {
  const c = await w.imap();
  try {
    return await waitFor(() => check(c), what);
  } finally {
    await c.logout();
  }
}

test('folders and message list', { timeout: TEST_TIMEOUT_MS }, async () => {
  const { page } = w;
  // The list arrives after the connection opens.
  await page.waitForSelector(tid('folder', '[data-name="Archive"]'));
  const names = await page.$$eval(tid('folder'), (els) => els.map((e) => e.getAttribute('data-name')));
  assert.ok(names.includes('INBOX'), `folders ${names}`);
  assert.ok(names.includes('Archive'), `folders ${names}`);
  const unread = (name) => page.$eval(tid('folder', `[data-name="${name}"]`) + ' ' + tid('unread'), (e) => e.textContent.trim());
  await waitFor(async () => (await unread('INBOX')) === '2', 'INBOX unread count 2');
  assert.equal(await unread('Archive'), '');
  await page.waitForSelector(row(w.uids[2]));
  assert.deepEqual([...await rowUids(page)].sort((a, b) => a - b), w.uids);
  const r = (uid, part) => page.$eval(row(uid) + ' ' + tid(part), (e) => e.textContent);
  assert.equal(await r(w.uids[0], 'row-subject'), 'Quarterly report');
  assert.match(await r(w.uids[0], 'row-from'), /Carol Finance/);
  assert.notEqual((await r(w.uids[0], 'row-date')).trim(), '');
  assert.equal(await page.getAttribute(row(w.uids[1]), 'data-seen'), 'true');
  assert.equal(await page.getAttribute(row(w.uids[0]), 'data-seen'), 'false');
  assert.equal(await page.getAttribute(row(w.uids[0]), 'data-flagged'), 'false');
  await screenshot(page, 'mailbox');
});

test('message view: sandboxed HTML, remote images only when asked', { timeout: TEST_TIMEOUT_MS }, async () => {
  const { page } = w;
  // What the browser tried (a CSP-blocked attempt shows up here with its
  // failure) versus what reached the tracker.
  const attempts = [];
  const onFail = (r) => { if (r.url().includes('/pixel.png')) attempts.push(`${r.url()} failed: ${r.failure()?.errorText}`); };
  const onDone = (r) => { if (r.url().includes('/pixel.png')) attempts.push(`${r.url()} finished`); };
  page.on('requestfailed', onFail);
  page.on('requestfinished', onDone);
  try {
    hits = 0;
    await page.click(row(w.uids[2]));
    await page.waitForSelector(tid('message-view'));
    await waitFor(async () => (await page.textContent(tid('message-subject'))) === 'Newsletter with pictures', 'message-subject');
    assert.match(await page.textContent(tid('message-from')), /News/);
    const frame = tid('message-body');
    assert.equal(await page.$eval(frame, (e) => e.tagName), 'IFRAME');
    assert.equal(await page.getAttribute(frame, 'sandbox'), '', 'sandbox="" (no allow-scripts)');
    const srcdoc = await waitFor(() => page.getAttribute(frame, 'srcdoc'), 'srcdoc');
    assert.match(srcdoc, /Content-Security-Policy/i);
    assert.match(srcdoc, /Big news/);
    await page.waitForSelector(tid('load-images'), { state: 'visible' });
    await screenshot(page, 'message');
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(hits, 0, `the remote image was fetched before load-images (browser: ${attempts.join('; ')})`);
    assert.notEqual(await page.title(), 'pwned', 'a script in the message ran');
    await page.click(tid('load-images'));
    await waitFor(async () => (await page.getAttribute(frame, 'srcdoc')) !== srcdoc, 'srcdoc with images allowed');
    await waitFor(() => hits > 0, `the remote image fetched after load-images (browser: ${attempts.join('; ')})`, 5000);
    assert.notEqual(await page.title(), 'pwned');
    // The opened message is read now; the server agrees.
    await onServer('\\Seen on the opened message', async (c) => (await c.flags('INBOX')).get(w.uids[2])?.includes('\\seen'));
  } finally {
    page.off('requestfailed', onFail);
    page.off('requestfinished', onDone);
  }
});

test('a plain-text message is shown escaped; no load-images button', { timeout: TEST_TIMEOUT_MS }, async () => {
  const { page } = w;
  await page.click(row(w.uids[0]));
  await waitFor(async () => (await page.textContent(tid('message-subject'))) === 'Quarterly report', 'message-subject');
  const srcdoc = await waitFor(() => page.getAttribute(tid('message-body'), 'srcdoc'), 'srcdoc');
  assert.match(srcdoc, /Numbers attached\./);
  assert.equal(await page.isVisible(tid('load-images')), false);
});

test('toggle-flag and toggle-seen reach the server', { timeout: TEST_TIMEOUT_MS }, async () => {
  const { page } = w;
  const uid = w.uids[0];
  await page.click(row(uid));
  await waitFor(async () => (await page.textContent(tid('message-subject'))) === 'Quarterly report', 'message open');
  await page.click(tid('toggle-flag'));
  await page.waitForSelector(row(uid) + '[data-flagged="true"]');
  await onServer('\\Flagged on the server', async (c) => (await c.flags('INBOX')).get(uid)?.includes('\\flagged'));

  const seen = (await page.getAttribute(row(uid), 'data-seen')) === 'true';
  await page.click(tid('toggle-seen'));
  await page.waitForSelector(row(uid) + `[data-seen="${!seen}"]`);
  await onServer(`\\Seen ${!seen} on the server`, async (c) => (await c.flags('INBOX')).get(uid)?.includes('\\seen') === !seen);
});

test('move to Archive', { timeout: TEST_TIMEOUT_MS }, async () => {
  const { page } = w;
  const uid = w.uids[1];
  await page.click(row(uid));
  await waitFor(async () => (await page.textContent(tid('message-subject'))) === 'Lunch on Friday?', 'message open');
  await page.selectOption(tid('move-target'), { label: 'Archive' }).catch(() => page.selectOption(tid('move-target'), 'Archive'));
  await page.click(tid('move'));
  await page.waitForSelector(row(uid), { state: 'detached' });
  await onServer('the message in Archive, not in INBOX', async (c) => {
    const inbox = await c.uids('INBOX', 'UNDELETED');
    const archived = [...(await c.subjects('Archive')).values()];
    return !inbox.includes(uid) && archived.includes('Lunch on Friday?');
  });
  // ?mailbox= opens that mailbox first.
  const other = await openPage(w.browser.context, w.bridge.url + '?mailbox=Archive');
  try {
    await waitState(other.page, 'open');
    await other.page.waitForSelector(tid('message-row'));
    assert.equal(await other.page.textContent(tid('message-row') + ' ' + tid('row-subject')), 'Lunch on Friday?');
  } finally {
    await other.page.close();
  }
});

test('delete', { timeout: TEST_TIMEOUT_MS }, async () => {
  const { page } = w;
  const uid = w.uids[0];
  await page.click(row(uid));
  await waitFor(async () => (await page.textContent(tid('message-subject'))) === 'Quarterly report', 'message open');
  await page.click(tid('delete'));
  // No Trash in SEED: deleting is permanent, so the page asks first (polish.test.mjs tests the cancel).
  await page.click(tid('confirm-ok'));
  await page.waitForSelector(row(uid), { state: 'detached' });
  await onServer('the message gone from INBOX', async (c) => !(await c.uids('INBOX', 'UNDELETED')).includes(uid));
  assert.deepEqual(await rowUids(page), [w.uids[2]]);
  assert.deepEqual(w.errors, [], 'uncaught page errors');
});
