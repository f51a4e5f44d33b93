// The core scenarios on a server other than Dovecot (issue 14): Cyrus IMAP,
// whose personal folders live below "INBOX." with "." as separator, IDLE is
// polled by the server (imapidlepoll) and special-use flags come in lower
// case. Folders and list, open a message, flag it (checked on the server),
// move it to INBOX.Archive, and new mail pushed without reload.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { row, rowUids, tid, waitFor } from '../lib/browser.mjs';
import { slack } from '../lib/faultproxy.mjs';
import { SEED, setup } from '../lib/fixture.mjs';

/** SERVER is the upstream under test. */
const SERVER = 'cyrus';
/** TEST_TIMEOUT_MS bounds each scenario. */
const TEST_TIMEOUT_MS = slack(30_000);
/** PUSH_BOUND_MS is a deadline for new mail on screen: Cyrus polls its mailbox every second in IDLE. */
const PUSH_BOUND_MS = slack(10_000);

let w;
let archive;
before(async () => {
  w = await setup({ server: SERVER });
  archive = w.dovecot.mailbox('Archive');
}, { timeout: slack(60_000) });
after(async () => { await w?.close(); });

async function onServer(what, check) {
  const c = await w.imap();
  try {
    return await waitFor(() => check(c), what);
  } finally {
    await c.logout();
  }
}

test(`${SERVER}: folders and message list`, { timeout: TEST_TIMEOUT_MS }, async () => {
  const { page } = w;
  await page.waitForSelector(tid('folder', `[data-name="${archive}"]`));
  const names = await page.$$eval(tid('folder'), (els) => els.map((e) => e.getAttribute('data-name')));
  assert.ok(names.includes('INBOX'), `folders ${names}`);
  await page.waitForSelector(row(w.uids[2]));
  assert.deepEqual([...await rowUids(page)].sort((a, b) => a - b), w.uids);
  assert.equal(await page.textContent(row(w.uids[0]) + ' ' + tid('row-subject')), SEED.messages[0].subject);
  assert.equal(await page.getAttribute(row(w.uids[1]), 'data-seen'), 'true');
});

test(`${SERVER}: open, flag, and the flag reaches the server`, { timeout: TEST_TIMEOUT_MS }, async () => {
  const { page } = w;
  const uid = w.uids[0];
  await page.click(row(uid));
  await waitFor(async () => (await page.textContent(tid('message-subject'))) === 'Quarterly report', 'message open');
  const srcdoc = await waitFor(() => page.getAttribute(tid('message-body'), 'srcdoc'), 'srcdoc');
  assert.match(srcdoc, /Numbers attached\./);
  await page.click(tid('toggle-flag'));
  await page.waitForSelector(row(uid) + '[data-flagged="true"]');
  await onServer('\\Flagged on the server', async (c) => (await c.flags('INBOX')).get(uid)?.includes('\\flagged'));
});

test(`${SERVER}: move to ${'INBOX.Archive'}`, { timeout: TEST_TIMEOUT_MS }, async () => {
  const { page } = w;
  const uid = w.uids[1];
  await page.click(row(uid));
  await waitFor(async () => (await page.textContent(tid('message-subject'))) === 'Lunch on Friday?', 'message open');
  await page.selectOption(tid('move-target'), archive).catch(() => page.selectOption(tid('move-target'), { label: 'Archive' }));
  await page.click(tid('move'));
  await page.waitForSelector(row(uid), { state: 'detached' });
  await onServer(`the message in ${archive}`, async (c) => {
    const inbox = await c.uids('INBOX', 'UNDELETED');
    const archived = [...(await c.subjects(archive)).values()];
    return !inbox.includes(uid) && archived.includes('Lunch on Friday?');
  });
});

test(`${SERVER}: new mail appears without reload`, { timeout: TEST_TIMEOUT_MS }, async () => {
  const { page } = w;
  const uid = await w.dovecot.deliver(w.user, { subject: 'Pushed by Cyrus', from: 'Dana <dana@example.com>' });
  assert.ok(uid > 0, 'APPENDUID');
  await page.waitForSelector(row(uid), { timeout: PUSH_BOUND_MS });
  assert.equal(await page.textContent(row(uid) + ' ' + tid('row-subject')), 'Pushed by Cyrus');
  assert.deepEqual(w.errors, [], 'uncaught page errors');
});
