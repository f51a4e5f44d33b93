// Screenshots of the demo for docs/screenshots/: the embedded default (its
// sample mail, no generated mail), the INBOX with the first HTML message
// open, in light and in dark (prefers-color-scheme). Not a test; run it by
// hand after `go build -o e2e/.out/bridge ./cmd/bridge`:
//
//	node e2e/screenshots.mjs docs/screenshots after
//
// writes docs/screenshots/after-light.png and after-dark.png.
import path from 'node:path';
import { launch, openPage, tid, waitState } from './lib/browser.mjs';
import { Embedded } from './lib/bridge.mjs';

const [dir = 'docs/screenshots', name = 'demo'] = process.argv.slice(2);
const br = new Embedded({ addr: '127.0.0.1:0', args: ['-demo-mail-max', '0'] });
const port = await br.start();
const browser = await launch();
try {
  for (const scheme of ['light', 'dark']) {
    const page = await browser.context.newPage();
    await page.emulateMedia({ colorScheme: scheme });
    await page.goto(`http://localhost:${port}/`);
    await waitState(page, 'open');
    await page.waitForSelector(tid('message-row'));
    // The newest message that has an HTML body (an iframe in the reader), else the newest.
    const rows = await page.$$(tid('message-row'));
    let opened = false;
    for (const r of rows.slice(0, 8)) {
      await r.click();
      await page.waitForTimeout(400);
      if (await page.$('#reader iframe')) { opened = true; break; }
    }
    if (!opened) await rows[0].click();
    await page.waitForTimeout(800);
    const file = path.join(dir, `${name}-${scheme}.png`);
    await page.screenshot({ path: file });
    console.log(`screenshots: ${file}`);
    await page.close();
  }
} finally {
  await browser.close();
  await br.close();
}
