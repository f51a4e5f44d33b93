// The embeddable widget page (/widget.html): INBOX's unread count, live.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { screenshot, tid, waitFor } from '../lib/browser.mjs';
import { setup } from '../lib/fixture.mjs';

/** LIVE_BOUND_MS bounds a count update after new mail. */
const LIVE_BOUND_MS = 2000;

test('widget shows the unread count and updates live', { timeout: 60_000 }, async () => {
  const w = await setup({ path: 'widget.html' });
  try {
    const count = () => w.page.textContent(tid('unread-count')).then((t) => t.trim());
    await waitFor(async () => (await count()) === '2', 'unread count 2 (3 seeded, 1 seen)');
    assert.equal(await w.page.getAttribute(tid('widget-state'), 'data-state'), 'open');
    await screenshot(w.page, 'widget');
    await w.dovecot.deliver(w.user, { subject: 'Widget news' });
    await waitFor(async () => (await count()) === '3', 'unread count 3 after new mail', LIVE_BOUND_MS);
    await w.dovecot.deliver(w.user, { subject: 'Already read', flags: ['\\Seen'] });
    // Marking a message read elsewhere lowers the count.
    const c = await w.imap();
    try {
      await c.command('SELECT INBOX');
      await c.command(`UID STORE ${w.uids[0]} +FLAGS (\\Seen)`);
    } finally {
      await c.logout();
    }
    await waitFor(async () => (await count()) === '2', 'unread count 2 after a message was read elsewhere', 5000);
    assert.deepEqual(w.errors, [], 'uncaught page errors');
  } finally {
    await w.close();
  }
});
