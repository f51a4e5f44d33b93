// Compose and send (issue 15): user A writes a message in the demo's compose
// window and sends it through the bridge's SMTP submission (the Postfix
// fixture, delivering into Dovecot by LMTP); user B's page, in another
// browser, shows it live. B replies with the Reply button; A's page shows the
// reply, the original gets \Answered, Sent holds both copies. The
// click-to-event latency (A's click on Send -> the row in B's DOM) is
// measured over TRIALS sends and written to e2e/.out/compose-latency.json.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import { OUT, seenAt, tid, waitFor } from '../lib/browser.mjs';
import { slack } from '../lib/faultproxy.mjs';
import { setup } from '../lib/fixture.mjs';
import { quantile } from '../lib/stats.mjs';

/** TRIALS is the number of click-to-event samples. */
const TRIALS = 10;
/** DELIVERY_MS bounds one send until the recipient's page shows it. */
const DELIVERY_MS = slack(20_000);
/** PAUSE_MS separates trials. */
const PAUSE_MS = 200;

const SCRIPT = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'servers', 'postfix.sh');

/** postfix returns the IMAPBRIDGE_POSTFIX_* settings, starting the fixture when ci/test.sh did not. */
function postfix() {
  if (!process.env.IMAPBRIDGE_POSTFIX_SUBMISSION) {
    execFileSync('bash', [SCRIPT, 'start'], { stdio: ['ignore', 'ignore', 'inherit'] });
    for (const line of execFileSync('bash', [SCRIPT, 'env'], { encoding: 'utf8' }).split('\n')) {
      const m = /^export (IMAPBRIDGE_POSTFIX_[A-Z]+)=(.*)$/.exec(line.trim());
      if (m) process.env[m[1]] = m[2];
    }
  }
  return { addr: process.env.IMAPBRIDGE_POSTFIX_SUBMISSION, ca: process.env.IMAPBRIDGE_POSTFIX_CA, domain: process.env.IMAPBRIDGE_POSTFIX_DOMAIN };
}

let a;
let b;
let pf;
const withSMTP = (config) => {
  config.upstreams[0].smtp = { addr: pf.addr, security: 'starttls', caFile: pf.ca, identities: [`{user}@${pf.domain}`] };
  return config;
};
const email = (w) => `${w.user.name}@${pf.domain}`;

before(async () => {
  pf = postfix();
  const seed = { mailboxes: [], messages: [] };
  a = await setup({ seed, bridge: { configure: withSMTP } });
  b = await setup({ seed, bridge: { configure: withSMTP } });
}, { timeout: slack(90_000) });
after(async () => {
  await a?.close();
  await b?.close();
});

/** rowBySubject waits for the list row whose subject is s and returns its UID. */
async function rowBySubject(page, s, timeout = DELIVERY_MS) {
  const sel = tid('message-row', `:has(${tid('row-subject')}:text-is("${s}"))`);
  await page.waitForSelector(sel, { timeout });
  return Number(await page.getAttribute(sel, 'data-uid'));
}

/** compose opens the window on page (or uses the open one) and fills it. */
async function fill(page, { from, to, subject, body }) {
  if (from !== undefined) await page.fill(tid('compose-from'), from);
  if (to !== undefined) await page.fill(tid('compose-to'), to);
  if (subject !== undefined) await page.fill(tid('compose-subject'), subject);
  if (body !== undefined) await page.fill(tid('compose-body'), body);
}

/** clickSend clicks Send and returns the click's epoch time in the page (ms). */
async function clickSend(page) {
  await page.evaluate(() => {
    document.querySelector('[data-testid="compose-send"]').addEventListener('click',
      () => { window.__e2eSendClick = performance.timeOrigin + performance.now(); }, { once: true, capture: true });
  });
  await page.click(tid('compose-send'));
  await waitFor(() => page.evaluate(() => window.__e2eSendClick), 'send click time');
  return page.evaluate(() => window.__e2eSendClick);
}

test('compose with validation, send to a second user, live in their page; reply sets \\Answered', { timeout: slack(90_000) }, async () => {
  const pa = a.page;
  const pb = b.page;
  await pa.click(tid('compose-open'));
  await fill(pa, { from: email(a), to: 'not an address', subject: 'Hello from the compose window', body: 'Grüße, B!\nSecond line.' });
  await pa.click(tid('compose-send'));
  await pa.waitForSelector(tid('compose-status', ':has-text("Not an address")'));
  assert.equal(await pa.getAttribute(tid('compose-to'), 'aria-invalid'), 'true');
  await fill(pa, { to: `B User <${email(b)}>` });
  await clickSend(pa);
  await pa.waitForSelector(tid('toast', `:has-text("Sent to ${email(b)}")`), { timeout: DELIVERY_MS });
  const uid = await rowBySubject(pb, 'Hello from the compose window');
  assert.ok(uid > 0);

  // B replies from the message view.
  await pb.click(tid('message-row', `[data-uid="${uid}"]`));
  await pb.click(tid('reply'));
  assert.equal(await pb.inputValue(tid('compose-to')), email(a));
  assert.equal(await pb.inputValue(tid('compose-subject')), 'Re: Hello from the compose window');
  await fill(pb, { from: email(b), body: 'Thanks!' });
  await clickSend(pb);
  await pb.waitForSelector(tid('toast', ':has-text("Sent to")'), { timeout: DELIVERY_MS });
  await rowBySubject(pa, 'Re: Hello from the compose window');

  const cb = await b.imap();
  const ca = await a.imap();
  try {
    await waitFor(async () => (await cb.flags('INBOX')).get(uid)?.includes('\\answered'), 'B\'s original \\Answered');
    const sentA = await ca.subjects('Sent');
    assert.ok([...sentA.values()].includes('Hello from the compose window'), `A's Sent: ${[...sentA.values()]}`);
    const sentAFlags = await ca.flags('Sent');
    assert.ok([...sentAFlags.values()].every((f) => f.includes('\\seen')), 'Sent copies are \\Seen');
  } finally {
    await ca.logout();
    await cb.logout();
  }
  assert.deepEqual(a.errors, [], 'uncaught page errors (A)');
  assert.deepEqual(b.errors, [], 'uncaught page errors (B)');
});

test('a refused recipient is reported alone; the other gets the message', { timeout: slack(60_000) }, async () => {
  const pa = a.page;
  await pa.click(tid('compose-open'));
  const ghost = `ghost-${b.user.name}@${pf.domain}`;
  await fill(pa, { from: email(a), to: `${email(b)}, ${ghost}`, subject: 'Partly deliverable', body: 'x' });
  await pa.click(tid('compose-send'));
  await pa.waitForSelector(tid('toast', `:has-text("refused: ${ghost}")`), { timeout: DELIVERY_MS });
  await rowBySubject(b.page, 'Partly deliverable');
});

test(`click-to-event latency over ${TRIALS} sends`, { timeout: slack(180_000) }, async () => {
  const pa = a.page;
  const samples = [];
  const submitted = [];
  for (let i = 0; i < TRIALS; i++) {
    const subject = `Latency send ${i + 1}`;
    await pa.click(tid('compose-open'));
    await fill(pa, { from: email(a), to: email(b), subject, body: 'timing' });
    const clicked = await clickSend(pa);
    // The window closes when the bridge answers submit (accepted by Postfix, Sent copy stored).
    const answered = pa.waitForSelector(tid('compose-window'), { state: 'detached', timeout: DELIVERY_MS })
      .then(() => performance.timeOrigin + performance.now());
    const uid = await rowBySubject(b.page, subject);
    const shown = await seenAt(b.page, uid);
    assert.ok(shown !== undefined, `no timestamp for uid ${uid}`);
    samples.push(shown - clicked);
    submitted.push((await answered) - clicked);
    await new Promise((r) => setTimeout(r, PAUSE_MS));
  }
  const sorted = [...samples].sort((x, y) => x - y);
  const r1 = (x) => Math.round(x * 10) / 10;
  const result = {
    trials: samples.length, medianMs: r1(quantile(sorted, 0.5)), p90Ms: r1(quantile(sorted, 0.9)),
    minMs: r1(sorted[0]), maxMs: r1(sorted[sorted.length - 1]), samplesMs: samples.map(r1),
    submitAnsweredMedianMs: r1(quantile([...submitted].sort((x, y) => x - y), 0.5)),
    measured: 'click on Send in user A\'s page -> the message row in user B\'s page (another browser), through ' +
      'bridge submit -> Postfix submission (STARTTLS, SASL via Dovecot) -> LMTP into Dovecot -> IDLE on B\'s bridge session',
  };
  fs.mkdirSync(OUT, { recursive: true });
  fs.writeFileSync(path.join(OUT, 'compose-latency.json'), JSON.stringify(result, null, 2) + '\n');
  console.log(`compose click-to-event latency: median ${result.medianMs} ms, p90 ${result.p90Ms} ms ` +
    `(min ${result.minMs}, max ${result.maxMs}, ${result.trials} sends); submit answered after median ${result.submitAnsweredMedianMs} ms`);
  assert.ok(result.medianMs < DELIVERY_MS);
});
