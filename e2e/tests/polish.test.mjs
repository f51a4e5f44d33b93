// The demo's everyday comforts: the unread count in the tab title, the open
// message in the URL (restored by a reload), multi-select with bulk
// read/flag/move/delete, a confirmation before anything permanent (and the
// Delete key), dark mode from prefers-color-scheme, and the signed-in
// account with a sign-out. Every change is checked on the IMAP side.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { row, tid, waitFor, waitState } from '../lib/browser.mjs';
import { SEED, setup } from '../lib/fixture.mjs';

/** TEST_TIMEOUT_MS bounds each scenario. */
const TEST_TIMEOUT_MS = 30_000;

/** SEED6 is SEED with three more unread INBOX messages, for the bulk actions. */
const SEED6 = structuredClone(SEED);
SEED6.messages.push(
  { subject: 'Bulk one', from: 'Ann <ann@example.com>', body: '1' },
  { subject: 'Bulk two', from: 'Ann <ann@example.com>', body: '2' },
  { subject: 'Bulk three', from: 'Ann <ann@example.com>', body: '3' },
);

let w;
before(async () => { w = await setup({ seed: SEED6 }); }, { timeout: 60_000 });
after(async () => { await w?.close(); });

// onServer polls the user's mailbox over raw IMAP until check(client) is truthy.
async function onServer(what, check) {
  const c = await w.imap();
  try {
    return await waitFor(() => check(c), what);
  } finally {
    await c.logout();
  }
}

const pick = (uid) => w.page.click(row(uid) + ' ' + tid('row-pick'));

test('unread count in the title, live', { timeout: TEST_TIMEOUT_MS }, async () => {
  const { page } = w;
  await waitFor(async () => (await page.title()) === '(5) Inbox — imapbridge', 'title (5) Inbox', 10_000)
    .catch(async (e) => { e.message += ` (title ${await page.title()})`; throw e; });
  const uid = await w.dovecot.deliver(w.user, { subject: 'Title news' });
  await page.waitForSelector(row(uid));
  await waitFor(async () => (await page.title()) === '(6) Inbox — imapbridge', 'title (6) after new mail', 5000);
});

test('the open message is in the URL and a reload opens it again', { timeout: TEST_TIMEOUT_MS }, async () => {
  const { page } = w;
  const uid = w.uids[1];
  await page.click(row(uid));
  await page.waitForSelector(tid('message-view', `[data-uid="${uid}"]`));
  assert.equal(new URL(page.url()).searchParams.get('msg'), String(uid));
  await page.reload();
  await waitState(page, 'open');
  await page.waitForSelector(tid('message-view', `[data-uid="${uid}"]`), { timeout: 10_000 });
  assert.equal(await page.textContent(tid('message-subject')), 'Lunch on Friday?');
});

test('multi-select: bulk read, flag and move', { timeout: TEST_TIMEOUT_MS }, async () => {
  const { page } = w;
  const [a, b, c] = w.uids.slice(3);
  await page.waitForSelector(row(c));
  await pick(a);
  await pick(b);
  await page.waitForSelector(tid('bulk-bar') + ':not([hidden])');
  assert.equal(await page.textContent(tid('bulk-count')), '2 selected');
  await page.click(tid('bulk-flag'));
  await page.click(tid('bulk-read'));
  await onServer('both flagged and seen on the server', async (imap) => {
    const f = await imap.flags('INBOX');
    return [a, b].every((u) => f.get(u)?.includes('\\flagged') && f.get(u)?.includes('\\seen')) && !f.get(c)?.includes('\\seen');
  });
  for (const u of [a, b]) {
    assert.equal(await page.getAttribute(row(u), 'data-flagged'), 'true');
    assert.equal(await page.getAttribute(row(u), 'data-seen'), 'true');
  }
  // Shift-click adds the range a..c; then move all three to Archive.
  await page.click(row(c) + ' ' + tid('row-pick'), { modifiers: ['Shift'] });
  assert.equal(await page.textContent(tid('bulk-count')), '3 selected');
  await page.selectOption(tid('bulk-move-target'), 'Archive');
  await onServer('three messages in Archive', async (imap) => (await imap.uids('Archive')).length === 3);
  await waitFor(async () => (await page.$(row(a))) === null && (await page.$(row(c))) === null, 'moved rows gone');
  assert.equal(await page.isHidden(tid('bulk-bar')), true, 'the bar goes with the selection');
});

test('permanent delete asks first; the Delete key deletes', { timeout: TEST_TIMEOUT_MS }, async () => {
  const { page } = w;
  // SEED has no Trash, so deleting is permanent: a confirmation, cancelled first.
  const uid = w.uids[0];
  await page.click(row(uid));
  await page.waitForSelector(tid('message-view', `[data-uid="${uid}"]`));
  await page.keyboard.press('Delete');
  await page.waitForSelector(tid('confirm-dialog'));
  assert.match(await page.textContent(tid('confirm-text')), /Delete “Quarterly report” permanently\?/);
  await page.click(tid('confirm-cancel'));
  await page.waitForSelector(tid('confirm-dialog'), { state: 'detached' });
  assert.ok(await page.$(row(uid)), 'cancel keeps the message');
  assert.ok((await onServer('still there', async (imap) => (await imap.uids('INBOX')).includes(uid) || null)));
  await page.keyboard.press('Delete');
  await page.click(tid('confirm-ok'));
  await onServer('expunged on the server', async (imap) => !(await imap.uids('INBOX')).includes(uid));
  await waitFor(async () => (await page.$(row(uid))) === null, 'row gone');
  // Bulk delete of two asks once, for both.
  const left = (await page.$$eval(tid('message-row'), (rs) => rs.map((r) => Number(r.dataset.uid)))).slice(0, 2);
  for (const u of left) await pick(u);
  await page.click(tid('bulk-delete'));
  assert.match(await page.textContent(tid('confirm-text')), /Delete 2 messages permanently\?/);
  await page.click(tid('confirm-ok'));
  await onServer('both expunged', async (imap) => { const u = await imap.uids('INBOX'); return !left.some((x) => u.includes(x)); });
});

test('dark mode follows prefers-color-scheme', { timeout: TEST_TIMEOUT_MS }, async () => {
  const { page } = w;
  const bg = () => page.evaluate(() => getComputedStyle(document.querySelector('.listcol')).backgroundColor);
  await page.emulateMedia({ colorScheme: 'light' });
  assert.equal(await bg(), 'rgb(255, 255, 255)');
  await page.emulateMedia({ colorScheme: 'dark' });
  assert.equal(await bg(), 'rgb(22, 27, 36)');
  assert.equal(await page.evaluate(() => getComputedStyle(document.documentElement).colorScheme), 'light dark');
  await page.emulateMedia({ colorScheme: 'light' });
});

test('the signed-in account is shown; sign-out logs the session out', { timeout: TEST_TIMEOUT_MS }, async () => {
  const { page } = w;
  await page.waitForSelector(tid('account') + ':not([hidden])');
  assert.equal(await page.textContent(tid('account-user')), w.user.name);
  await page.click(tid('sign-out'));
  await page.waitForSelector(tid('signed-out'));
  assert.match(await page.textContent(tid('signed-out')), new RegExp(`${w.user.name} is signed out`));
  assert.equal(await page.title(), 'Signed out — imapbridge');
  // The bridge's only session of this page is gone (LOGOUT, then the socket closed).
  await waitFor(async () => /\nimapbridge_sessions 0\n/.test(await (await fetch(w.bridge.url + 'metrics')).text()), 'no bridge session left', 10_000);
  assert.deepEqual(w.errors, [], 'uncaught page errors');
});
