// Search, conversations and live folder counts in the demo (issue 16), and a
// page that embeds only <imapbridge-unread> (/unread.html): search finds a
// seeded message by a body word; the conversation view groups a seeded
// thread; an APPEND into a folder that is not open updates that folder's
// count in the demo and the badge of the component page — by NOTIFY, and by
// the bridge's polling (upstream noNotify, 1 s interval). Latencies go to
// e2e/.out/find-latency.json.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { openPage, row, rowUids, screenshot, tid, waitFor } from '../lib/browser.mjs';
import { SEED, setup } from '../lib/fixture.mjs';
import { message } from '../lib/imap.mjs';

const OUT = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '.out');
/** STATUS_BOUND_MS bounds a folder count update after an APPEND (polling: one 1 s interval plus the round). */
const STATUS_BOUND_MS = 5000;
/** POLL_INTERVAL is the bridge's watch polling interval in the polling variant. */
const POLL_INTERVAL = '1s';

/** threadMsg is a raw message of the seeded thread. */
function threadMsg(id, subject, refs, day) {
  const m = message({ subject, from: 'Dana Ops <dana@example.com>', body: `Thread message ${id}.`, date: new Date(Date.UTC(2026, 0, day, 9)) });
  const extra = refs.length > 0 ? `In-Reply-To: ${refs[refs.length - 1]}\r\nReferences: ${refs.join(' ')}\r\n` : '';
  return m.replace(/Message-ID: <[^>]+>\r\n/, `Message-ID: ${id}\r\n${extra}`);
}

const FIND_SEED = {
  mailboxes: [...SEED.mailboxes],
  messages: [
    ...SEED.messages,
    { subject: 'Instrument order', from: 'Erin Music <erin@example.com>', body: 'The xylophone arrives on Tuesday.' },
    { raw: threadMsg('<t1@e2e.test>', 'Server migration', [], 10) },
    { raw: threadMsg('<t2@e2e.test>', 'Re: Server migration', ['<t1@e2e.test>'], 11) },
    { raw: threadMsg('<t3@e2e.test>', 'Re: Server migration', ['<t1@e2e.test>', '<t2@e2e.test>'], 12) },
  ],
};

test('search finds a seeded message by a body word; the conversation view groups the seeded thread', { timeout: 90_000 }, async () => {
  const w = await setup({ seed: FIND_SEED });
  try {
    const { page } = w;
    const all = w.uids.length;
    await waitFor(async () => (await rowUids(page)).length === all, `${all} rows`);
    const xylophone = w.uids[3];
    await page.fill(tid('search-input'), 'xylophone');
    await page.press(tid('search-input'), 'Enter');
    await waitFor(async () => {
      const uids = await rowUids(page);
      return uids.length === 1 && uids[0] === xylophone;
    }, 'only the xylophone message listed');
    assert.match(await page.textContent(tid('search-note')), /1 found/);
    await page.fill(tid('search-input'), 'Instrument');
    await page.press(tid('search-input'), 'Enter');
    await waitFor(async () => (await page.$(`${row(xylophone)} ${tid('search-hit')}`)) !== null, 'the subject match highlighted');
    await screenshot(page, 'search');
    await page.fill(tid('search-input'), '');
    await page.press(tid('search-input'), 'Enter');
    await waitFor(async () => (await rowUids(page)).length === all, 'every row back after clearing the search');

    await page.check(tid('conversation-toggle'));
    const [t1, t2, t3] = w.uids.slice(4);
    await waitFor(async () => (await rowUids(page)).length === all - 2, 'the three thread messages on one row');
    const uids = await rowUids(page);
    assert.ok(uids.includes(t3) && !uids.includes(t1) && !uids.includes(t2), `one row (the newest) for the thread: ${uids}`);
    assert.equal(await page.getAttribute(row(t3), 'data-thread-size'), '3');
    await screenshot(page, 'conversations');
    await page.selectOption(tid('sort-menu'), 'subject');
    await page.uncheck(tid('conversation-toggle'));
    await waitFor(async () => (await rowUids(page)).length === all, 'every row back after the toggle');
    assert.deepEqual(w.errors, [], 'uncaught page errors');
  } finally {
    await w.close();
  }
});

const figures = {};

for (const mode of ['notify', 'poll']) {
  test(`an APPEND into a folder that is not open updates its count in the demo and on a page with only <imapbridge-unread> (${mode})`, { timeout: 90_000 }, async () => {
    const configure = mode === 'poll'
      ? (c) => ({ ...c, upstreams: c.upstreams.map((u) => ({ ...u, noNotify: true })), limits: { ...(c.limits ?? {}), watchPollInterval: POLL_INTERVAL } })
      : (c) => c;
    const w = await setup({ bridge: { configure } });
    try {
      const c = await w.imap();
      try {
        await c.command('SUBSCRIBE INBOX');
        await c.command('SUBSCRIBE Archive');
      } finally {
        await c.logout();
      }
      const { page } = w;
      const archiveCount = () => page.textContent(`${tid('folder')}[data-name="Archive"] ${tid('unread')}`).then((t) => t.trim());
      await waitFor(async () => (await page.$(`${tid('folder')}[data-name="Archive"]`)) !== null, 'the Archive folder listed');
      const badgePage = await openPage(w.browser.context, w.bridge.url + 'unread.html');
      const badge = () => badgePage.page.textContent(tid('unread-badge')).then((t) => t.trim());
      await waitFor(async () => (await badge()) === '2', 'the component page shows 2 unread (INBOX 2, Archive 0)');
      assert.equal(await badgePage.page.getAttribute(tid('unread-badge'), 'data-state'), mode);
      assert.equal(await badgePage.page.getAttribute(tid('unread-badge'), 'aria-live'), 'polite');
      await new Promise((r) => setTimeout(r, 300)); // the demo's folder watch is set up after its first list
      const samples = [];
      for (let i = 1; i <= 3; i++) {
        const t0 = Date.now();
        await w.dovecot.deliver(w.user, { subject: `Archived ${i}` }, 'Archive');
        let demoMs = 0;
        let badgeMs = 0;
        await Promise.all([
          waitFor(async () => (await archiveCount()) === String(i) && (demoMs = Date.now() - t0), `demo: Archive shows ${i} unread`, STATUS_BOUND_MS),
          waitFor(async () => (await badge()) === String(2 + i) && (badgeMs = Date.now() - t0), `component page shows ${2 + i}`, STATUS_BOUND_MS),
        ]);
        samples.push({ demoMs, badgeMs });
      }
      assert.equal((await page.textContent('#mailbox-count')).includes('3 messages'), true, 'the open folder stayed INBOX');
      await screenshot(badgePage.page, `unread-component-${mode}`);
      figures[mode] = samples;
      console.log(`status latency (${mode}): ${samples.map((s) => `demo ${s.demoMs} ms, component ${s.badgeMs} ms`).join('; ')}`);
      fs.mkdirSync(OUT, { recursive: true });
      fs.writeFileSync(path.join(OUT, 'find-latency.json'), JSON.stringify({ pollInterval: POLL_INTERVAL, ...figures }, null, 2) + '\n');
      assert.deepEqual(w.errors, [], 'uncaught page errors');
      assert.deepEqual(badgePage.errors, [], 'uncaught errors on the component page');
    } finally {
      await w.close();
    }
  });
}
