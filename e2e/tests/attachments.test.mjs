// Attachments as a person meets them (issue 13): an HTML message's inline
// (cid:) image shows in the sandboxed view; an attachment chip downloads the
// file (saved by the browser, SHA-256 equal to the attached bytes); an image
// attachment previews; "Save as draft" with a 5 MB attachment lands in Drafts
// (checked over raw IMAP); and while 25 MB downloads run, new mail still
// reaches the page about as fast as it reaches a raw IMAP IDLE client.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import zlib from 'node:zlib';
import { OUT, row, screenshot, seenAt, tid, waitFor } from '../lib/browser.mjs';
import { setup } from '../lib/fixture.mjs';
import { message } from '../lib/imap.mjs';
import { quantile } from '../lib/stats.mjs';

/** TEST_TIMEOUT_MS bounds each scenario. */
const TEST_TIMEOUT_MS = 60_000;
/** DRAFT_ATTACHMENT_BYTES is the draft's attachment (5 MB). */
const DRAFT_ATTACHMENT_BYTES = 5_000_000;
/** BIG_ATTACHMENT_BYTES is the attachment downloaded while new mail arrives (25 MiB). */
const BIG_ATTACHMENT_BYTES = 25 << 20;
/** TRIALS is the number of new-mail samples with and without a download running. */
const TRIALS = 6;
/** NOTIFY_SLACK_MS is the allowance over Dovecot's own notify delay (reported; see the assertion). */
const NOTIFY_SLACK_MS = 100;

const sha = (b) => crypto.createHash('sha256').update(b).digest('hex');

// ---- a PNG and a MIME message, built here ----

const CRC = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(b) {
  let c = 0xffffffff;
  for (const x of b) c = CRC[(c ^ x) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
/** png encodes a w×h RGB image filled with rgb (a real, decodable PNG). */
function png(w, h, [r, g, b]) {
  const chunk = (type, data) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const td = Buffer.concat([Buffer.from(type), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(td));
    return Buffer.concat([len, td, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0);
  ihdr.writeUInt32BE(h, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // RGB
  const rowBytes = Buffer.alloc(1 + w * 3);
  for (let x = 0; x < w; x++) rowBytes.set([r, g, b], 1 + x * 3);
  const raw = Buffer.concat(Array.from({ length: h }, () => rowBytes));
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr),
    chunk('IDAT', zlib.deflateSync(raw)), chunk('IEND', Buffer.alloc(0))]);
}

const b64lines = (buf) => buf.toString('base64').replace(/.{1,76}/g, '$&\r\n');

/**
 * mimeMessage builds multipart/mixed { multipart/related { HTML, inline
 * images by Content-ID }, attachments } with base64 parts and RFC 2231
 * filenames; CRLF line endings.
 */
function mimeMessage({ subject, html, inline = [], attachments = [] }) {
  const mixed = 'mixed-' + crypto.randomBytes(8).toString('hex');
  const rel = 'rel-' + crypto.randomBytes(8).toString('hex');
  const fname = (n) => /^[\x20-\x7e]*$/.test(n) ? `filename="${n}"`
    : `filename="${n.replace(/[^\x20-\x7e]/g, '_')}"; filename*=UTF-8''${encodeURIComponent(n)}`;
  let s = `From: Photos <photos@example.com>\r\nTo: demo@example.com\r\nSubject: ${subject}\r\n` +
    `Date: ${new Date().toUTCString().replace('GMT', '+0000')}\r\nMessage-ID: <${crypto.randomBytes(6).toString('hex')}@e2e.test>\r\n` +
    `MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="${mixed}"\r\n\r\n`;
  s += `--${mixed}\r\nContent-Type: multipart/related; boundary="${rel}"\r\n\r\n`;
  s += `--${rel}\r\nContent-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n${b64lines(Buffer.from(html))}`;
  for (const i of inline) {
    s += `--${rel}\r\nContent-Type: ${i.type}\r\nContent-Transfer-Encoding: base64\r\nContent-ID: <${i.cid}>\r\n` +
      `Content-Disposition: inline\r\n\r\n${b64lines(i.data)}`;
  }
  s += `--${rel}--\r\n`;
  for (const a of attachments) {
    s += `--${mixed}\r\nContent-Type: ${a.type}\r\nContent-Transfer-Encoding: base64\r\n` +
      `Content-Disposition: attachment; ${fname(a.name)}\r\n\r\n${b64lines(a.data)}`;
  }
  return s + `--${mixed}--\r\n`;
}

// ---- the world ----

const LOGO = png(48, 32, [40, 120, 220]);
const PHOTO = png(320, 200, [220, 90, 40]);
const PDF = Buffer.from('%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj 2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj ' +
  '3 0 obj<</Type/Page/MediaBox[0 0 200 200]/Parent 2 0 R>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n');
const BIG = crypto.randomBytes(BIG_ATTACHMENT_BYTES);

let w;
let downloads;
before(async () => {
  downloads = fs.mkdtempSync(path.join(OUT, 'downloads-'));
  w = await setup({
    seed: {
      messages: [
        { raw: mimeMessage({ subject: 'Holiday photos', html: '<p>Our logo: <img src="cid:logo@e2e.test" alt="logo" id="logo"></p><p>Photo and report attached.</p><img src="http://127.0.0.1:9/remote.png" alt="remote" id="remote">',
          inline: [{ cid: 'logo@e2e.test', type: 'image/png', data: LOGO }],
          attachments: [{ name: 'Strand Übersicht.png', type: 'image/png', data: PHOTO }, { name: 'report.pdf', type: 'application/pdf', data: PDF }] }) },
        { raw: mimeMessage({ subject: 'Big file', html: '<p>25 MiB attached.</p>', attachments: [{ name: 'big.bin', type: 'application/octet-stream', data: BIG }] }) },
      ],
    },
  });
}, { timeout: 60_000 });
after(async () => {
  await w?.close();
  if (downloads) fs.rmSync(downloads, { recursive: true, force: true });
});

/** open clicks the row of uid and waits for its subject. */
async function open(page, uid, subject) {
  await page.click(row(uid));
  await waitFor(async () => (await page.textContent(tid('message-subject'))) === subject, `message ${subject} open`);
}

/** chip is the selector of the attachment chip named name. */
const chip = (name) => tid('attachment', `[data-name="${name}"]`);

test('an inline cid: image shows in the sandboxed message view', { timeout: TEST_TIMEOUT_MS }, async () => {
  const { page } = w;
  await page.waitForSelector(row(w.uids[0]));
  await open(page, w.uids[0], 'Holiday photos');
  const srcdoc = await waitFor(async () => {
    const s = await page.getAttribute(tid('message-body'), 'srcdoc');
    return s?.includes('data:image/png;base64,') ? s : undefined;
  }, 'srcdoc with the inline image resolved');
  assert.ok(srcdoc.includes(LOGO.toString('base64')), 'the inline image is the cid: part, decoded');
  assert.doesNotMatch(srcdoc, /cid:logo/);
  const img = page.frameLocator(tid('message-body')).locator('#logo');
  const size = await waitFor(async () => {
    const s = await img.evaluate((e) => [e.complete, e.naturalWidth, e.naturalHeight]);
    return s[0] && s[1] > 0 ? s : undefined;
  }, 'the inline image decoded by the browser');
  assert.deepEqual(size, [true, 48, 32]);
  // The remote image stays blocked until asked: the document's CSP allows
  // data: images only, and the banner offers to load it.
  assert.match(srcdoc, /img-src data: cid:;/);
  await page.waitForSelector(tid('load-images'), { state: 'visible' });
  assert.equal(await page.frameLocator(tid('message-body')).locator('#remote').evaluate((e) => e.naturalWidth), 0);
  // The inline part has no chip; the two attachments do.
  await page.waitForSelector(chip('report.pdf'));
  assert.equal(await page.isVisible(tid('attachment', '[data-cid="logo@e2e.test"]')), false);
  assert.equal(await page.isVisible(chip('Strand Übersicht.png')), true);
  await screenshot(page, 'inline-image');
});

test('an attachment chip downloads the file (SHA-256 checked); an image previews', { timeout: TEST_TIMEOUT_MS }, async () => {
  const { page } = w;
  await open(page, w.uids[0], 'Holiday photos');
  await page.waitForSelector(chip('Strand Übersicht.png'));
  const [dl] = await Promise.all([page.waitForEvent('download'), page.click(chip('Strand Übersicht.png') + ' ' + tid('attachment-download'))]);
  assert.equal(dl.suggestedFilename(), 'Strand Übersicht.png');
  const file = path.join(downloads, 'photo.png');
  await dl.saveAs(file);
  assert.equal(sha(fs.readFileSync(file)), sha(PHOTO));
  const [pdf] = await Promise.all([page.waitForEvent('download'), page.click(chip('report.pdf') + ' ' + tid('attachment-download'))]);
  await pdf.saveAs(path.join(downloads, 'report.pdf'));
  assert.equal(sha(fs.readFileSync(path.join(downloads, 'report.pdf'))), sha(PDF));

  await page.click(chip('Strand Übersicht.png') + ' ' + tid('attachment-preview'));
  const dims = await waitFor(() => page.$eval(tid('preview-image'), (e) => (e.complete && e.naturalWidth > 0 ? [e.naturalWidth, e.naturalHeight] : null)).catch(() => null),
    'the preview image decoded');
  assert.deepEqual(dims, [320, 200]);
  await screenshot(page, 'attachment-preview');
  await page.click(tid('preview-close'));
  await page.waitForSelector(tid('preview'), { state: 'detached' });
  // A PDF opens in a frame of the browser's viewer.
  await page.click(chip('report.pdf') + ' ' + tid('attachment-preview'));
  const src = await page.waitForSelector(tid('preview-pdf')).then((e) => e.getAttribute('src'));
  assert.match(src, /^blob:/);
  await page.keyboard.press('Escape');
  await page.waitForSelector(tid('preview'), { state: 'detached' });
});

test('"Save as draft" with a 5 MB attachment lands in Drafts', { timeout: TEST_TIMEOUT_MS }, async () => {
  const { page } = w;
  const data = crypto.randomBytes(DRAFT_ATTACHMENT_BYTES);
  await page.click(tid('compose'));
  await page.fill(tid('draft-to'), 'Zoë <zoe@example.com>');
  await page.fill(tid('draft-subject'), 'Plan für Montag');
  await page.fill(tid('draft-body'), 'See the attached plan.\nGrüße');
  await page.setInputFiles(tid('draft-files'), { name: 'Plan Übersicht.bin', mimeType: 'application/octet-stream', buffer: data });
  const started = Date.now();
  await page.click(tid('save-draft'));
  await page.waitForSelector(tid('draft-status', '[data-state="saved"]'), { timeout: 30_000 });
  const uploadMs = Date.now() - started;
  const c = await w.imap();
  try {
    const lines = await c.command('SELECT "Drafts"');
    assert.ok(lines.some((l) => /\* 1 EXISTS/.test(l)), `Drafts: ${lines.join(' | ')}`);
    const f = (await c.command('FETCH 1 (FLAGS BODY.PEEK[])')).join('\r\n');
    assert.match(f, /\\Draft/);
    assert.match(f, /Subject: =\?UTF-8\?B\?/);
    assert.match(f, /To: =\?UTF-8\?B\?[^?]+\?= <zoe@example\.com>\r\n/);
    const m = /Content-Disposition: attachment; filename="Plan _bersicht.bin"; filename\*=UTF-8''Plan%20%C3%9Cbersicht\.bin\r\n\r\n([A-Za-z0-9+/=\r\n]+?)\r\n--/.exec(f);
    assert.ok(m, 'the attachment part in the stored draft');
    assert.equal(sha(Buffer.from(m[1].replace(/\r\n/g, ''), 'base64')), sha(data), 'the stored attachment is the file');
  } finally {
    await c.logout();
  }
  fs.mkdirSync(OUT, { recursive: true });
  fs.writeFileSync(path.join(OUT, 'draft-upload.json'), JSON.stringify({ bytes: DRAFT_ATTACHMENT_BYTES, saveMs: uploadMs }, null, 2));
  await screenshot(page, 'draft-saved');
  await page.click(tid('composer-close'));
});

// summary returns median, p90, min and max of samples (ms, 0.1 ms).
function summary(samples) {
  const s = [...samples].sort((a, b) => a - b);
  const r = (x) => Math.round(x * 10) / 10;
  return { n: s.length, medianMs: r(quantile(s, 0.5)), p90Ms: r(quantile(s, 0.9)), minMs: r(s[0]), maxMs: r(s[s.length - 1]) };
}

test('new mail reaches the page during 25 MiB downloads about as fast as without', { timeout: 150_000 }, async () => {
  const { page } = w;
  await open(page, w.uids[1], 'Big file');
  await page.waitForSelector(chip('big.bin'));
  const deliver = await w.imap();
  // A raw IMAP client in IDLE on INBOX: Dovecot's own notify delay.
  const idler = await w.imap();
  await idler.idle('INBOX');
  const now = () => performance.timeOrigin + performance.now();
  const trial = async (label, i) => {
    const pushed = idler.nextMatch(/^\* \d+ EXISTS/i, 20_000);
    const uid = await deliver.append('INBOX', message({ subject: `${label} ${i}`, from: 'Live <live@example.com>' }));
    const okAt = now();
    await page.waitForSelector(row(uid), { state: 'attached', timeout: 20_000 });
    const screenAt = await seenAt(page, uid);
    // A push may beat the tagged OK to this process: count that as 0.
    return { uid, screen: Math.max(0, screenAt - okAt), idle: Math.max(0, (await pushed) - okAt) };
  };
  const base = [];
  const busy = [];
  const bar = tid('transfer-progress', '[data-name="big.bin"]');
  let downloadsDone = 0;
  let progressSeen = false;
  let inFlight = 0; // busy trials whose download was still running when the row appeared
  try {
    for (let i = 0; i < TRIALS; i++) {
      base.push(await trial('quiet', i));
      await new Promise((r) => setTimeout(r, 200));
    }
    for (let i = 0; i < TRIALS; i++) {
      // Start a 25 MiB download, then deliver at once: Dovecot's notify
      // delay (~0.5 s) passes while the download (> 1 s) runs.
      let finished = false;
      const done = page.waitForEvent('download', { timeout: 60_000 }).then((d) => { finished = true; return d; });
      const shown = page.waitForSelector(bar, { state: 'attached', timeout: 60_000 }).then(() => true, () => false);
      await page.click(chip('big.bin') + ' ' + tid('attachment-download'));
      const t = await trial('busy', i);
      busy.push(t);
      if (!finished) inFlight++;
      const dl = await done;
      if (await Promise.race([shown, new Promise((r) => setTimeout(() => r(false), 100))])) progressSeen = true;
      const f = path.join(downloads, `big-${i}.bin`);
      await dl.saveAs(f);
      assert.equal(fs.statSync(f).size, BIG_ATTACHMENT_BYTES);
      if (i === 0) assert.equal(sha(fs.readFileSync(f)), sha(BIG));
      fs.rmSync(f);
      downloadsDone++;
      await page.waitForSelector(bar, { state: 'detached' });
    }
    // The bar shows only for a transfer that runs past PROGRESS_DELAY_MS
    // (1 s); on a quiet machine 25 MiB over loopback takes less. One more
    // download whose request is held 1.5 s before it goes out shows it
    // whatever the machine's speed.
    if (!progressSeen) {
      await page.route('**/transfer/**', async (route) => {
        await new Promise((r) => setTimeout(r, 1500));
        await route.continue();
      });
      try {
        const shown = page.waitForSelector(bar, { state: 'attached', timeout: 30_000 }).then(() => true, () => false);
        const done = page.waitForEvent('download', { timeout: 60_000 });
        await page.click(chip('big.bin') + ' ' + tid('attachment-download'));
        progressSeen = await shown;
        const dl = await done;
        const f = path.join(downloads, 'big-held.bin');
        await dl.saveAs(f);
        assert.equal(fs.statSync(f).size, BIG_ATTACHMENT_BYTES);
        fs.rmSync(f);
        await page.waitForSelector(bar, { state: 'detached' });
      } finally {
        await page.unroute('**/transfer/**');
      }
    }
  } finally {
    await idler.idleDone().catch(() => {});
    await idler.logout().catch(() => {});
    await deliver.logout().catch(() => {});
  }
  const report = {
    attachmentBytes: BIG_ATTACHMENT_BYTES, downloads: downloadsDone, progressBarSeen: progressSeen, busyTrialsStillDownloading: inFlight,
    quiet: { screen: summary(base.map((t) => t.screen)), idle: summary(base.map((t) => t.idle)) },
    downloading: { screen: summary(busy.map((t) => t.screen)), idle: summary(busy.map((t) => t.idle)) },
    overIdle: { quiet: summary(base.map((t) => t.screen - t.idle)), downloading: summary(busy.map((t) => t.screen - t.idle)) },
  };
  fs.writeFileSync(path.join(OUT, 'transfer-latency.json'), JSON.stringify(report, null, 2));
  console.log('new mail during downloads:', JSON.stringify(report));
  assert.equal(downloadsDone, TRIALS, 'every 25 MiB download completed');
  assert.ok(inFlight >= 1, 'new mail reached the page while a download was still running');
  assert.ok(progressSeen, 'the progress bar showed for a 25 MiB download');
  // Generous on a shared 2-core machine: the page's lag behind a raw IDLE
  // client while downloading stays within the 100 ms over the quiet
  // baseline's lag measured in the same run, or within 3× that lag.
  const lagBusy = report.overIdle.downloading.medianMs;
  const lagQuiet = report.overIdle.quiet.medianMs;
  assert.ok(lagBusy <= Math.max(lagQuiet + NOTIFY_SLACK_MS, 3 * lagQuiet),
    `median lag behind IDLE: ${lagBusy} ms downloading vs ${lagQuiet} ms quiet`);
});
