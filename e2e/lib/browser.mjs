// Debian's chromium driven by playwright-core, and the demo page's DOM
// contract (data-testid attributes) as helpers for the scenarios.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { slack } from './faultproxy.mjs';

/** CHROMIUM is the browser binary (override with IMAPBRIDGE_E2E_CHROMIUM). */
export const CHROMIUM = process.env.IMAPBRIDGE_E2E_CHROMIUM || '/usr/bin/chromium';
/** OUT is the test output directory (gitignored): screenshots, latency.json. */
export const OUT = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '.out');
/** SCREENSHOTS is where the main views are saved. */
export const SCREENSHOTS = path.join(OUT, 'screenshots');
/** WAIT_MS is the default bound of one wait for the page (a selector, a state), widened in the latency variant. */
export const WAIT_MS = slack(10_000);
/** LAUNCH_ARGS are chromium's flags: no sandbox (root in CI), nothing fetched from the network. */
export const LAUNCH_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--no-first-run'];

/** tid returns the CSS selector of a data-testid, with optional extra attribute selectors. */
export const tid = (id, extra = '') => `[data-testid="${id}"]${extra}`;

/**
 * launch starts chromium with a fresh profile directory and returns
 * {context, close}; close ends the browser and removes the profile.
 */
export async function launch() {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'imapbridge-e2e-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: LAUNCH_ARGS,
    viewport: { width: 1280, height: 800 },
    timeout: WAIT_MS * 3,
  });
  context.setDefaultTimeout(WAIT_MS);
  return {
    context,
    async close() {
      await context.close().catch(() => {});
      fs.rmSync(profile, { recursive: true, force: true });
    },
  };
}

// observeRows runs in the page before its scripts: it records, for each
// message-row data-uid, the epoch time (ms, sub-ms precision) at which it
// first appeared in the DOM, so latency is measured where the person sees it.
function observeRows() {
  const seen = Object.create(null);
  Object.defineProperty(window, '__e2eSeen', { value: seen });
  const now = () => performance.timeOrigin + performance.now();
  const mark = (el) => {
    if (el.nodeType !== 1) return;
    const rows = el.matches('[data-testid="message-row"]') ? [el] : el.querySelectorAll('[data-testid="message-row"]');
    for (const r of rows) {
      const uid = r.getAttribute('data-uid');
      if (uid && !(uid in seen)) seen[uid] = now();
    }
  };
  new MutationObserver((records) => {
    for (const rec of records) {
      if (rec.type === 'attributes') mark(rec.target);
      else rec.addedNodes.forEach(mark);
    }
  }).observe(document, { subtree: true, childList: true, attributes: true, attributeFilter: ['data-uid'] });
}

/**
 * openPage opens url in a new page with the row observer installed and
 * counts the page's POST /dev/token requests ({page, tokens(), errors}).
 */
export async function openPage(context, url) {
  const page = await context.newPage();
  await page.addInitScript(observeRows);
  let tokens = 0;
  const errors = [];
  page.on('request', (r) => {
    if (r.method() === 'POST' && new URL(r.url()).pathname === '/dev/token') tokens++;
  });
  page.on('pageerror', (e) => errors.push(e));
  await page.goto(url);
  return { page, tokens: () => tokens, errors };
}

/** waitState waits until the element testid (conn-state, widget-state) has data-state=state. */
export async function waitState(page, state, { testid = 'conn-state', timeout = WAIT_MS } = {}) {
  await page.waitForSelector(tid(testid, `[data-state="${state}"]`), { state: 'attached', timeout });
}

/** rowUids returns the data-uid of every message-row, in DOM order. */
export async function rowUids(page) {
  return page.$$eval(tid('message-row'), (rows) => rows.map((r) => Number(r.getAttribute('data-uid'))));
}

/** row returns the selector of the row of uid. */
export const row = (uid) => tid('message-row', `[data-uid="${uid}"]`);

/** seenAt returns the epoch time (ms) at which the row of uid first appeared, or undefined. */
export async function seenAt(page, uid) {
  return page.evaluate((u) => window.__e2eSeen[String(u)], uid);
}

/** screenshot saves a PNG of the page as SCREENSHOTS/name.png. */
export async function screenshot(page, name) {
  fs.mkdirSync(SCREENSHOTS, { recursive: true });
  const file = path.join(SCREENSHOTS, `${name}.png`);
  await page.screenshot({ path: file, fullPage: false });
  return file;
}

/** waitFor polls fn (async, truthy = done) every 50 ms until timeout; it throws with what on timeout. */
export async function waitFor(fn, what, timeout = WAIT_MS) {
  const deadline = Date.now() + timeout;
  let last;
  for (;;) {
    last = await fn();
    if (last) return last;
    if (Date.now() > deadline) throw new Error(`e2e: timed out after ${timeout} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
