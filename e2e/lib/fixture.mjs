// One scenario's world: a fresh Dovecot user seeded with mail, a bridge whose
// demo fronts that user, and a fresh chromium profile; close() undoes all.
import { Bridge } from './bridge.mjs';
import { launch, openPage, waitState, tid } from './browser.mjs';
import { Dovecot } from './dovecot.mjs';
import { FaultProxy, LATENCY_MS, freePort } from './faultproxy.mjs';
import { ImapServer } from './servers.mjs';

/** SEED is the default mail of a fresh user: three INBOX messages (one seen, one HTML with a remote image) and an Archive folder. */
export const SEED = {
  mailboxes: ['Archive'],
  messages: [
    { subject: 'Quarterly report', from: 'Carol Finance <carol@example.com>', body: 'Numbers attached.\nCarol' },
    { subject: 'Lunch on Friday?', from: 'Bob Friend <bob@example.com>', body: 'Pizza or sushi?', flags: ['\\Seen'] },
    { subject: 'Newsletter with pictures', from: 'News <news@example.com>', body: 'See the HTML part.',
      html: '<h1>Hello</h1><p>Big news.</p><img src="http://127.0.0.1:9/pixel.png" alt="remote"><script>document.title="pwned"</script>' },
  ],
};

/**
 * setup builds the world: opts.seed (default SEED), opts.bridge (Bridge
 * options such as tokenTTL), opts.path (page path and query, default "").
 * It resolves when the page's conn-state is open. With
 * IMAPBRIDGE_E2E_LATENCY_MS set (faultproxy.mjs) the browser reaches the
 * bridge, and the bridge Dovecot, through latency proxies; the test's own
 * IMAP connections (deliveries, checks) stay direct.
 */
export async function setup({ seed = SEED, bridge: bopts = {}, path = '', server = 'dovecot' } = {}) {
  // opts.server names another upstream of e2e/servers/ (cyrus, courier).
  const dovecot = server === 'dovecot' ? Dovecot.fromEnv() : ImapServer.fromEnv(server);
  const user = dovecot.newUser();
  const uids = await dovecot.seed(user, seed);
  let proxy = null;
  if (LATENCY_MS > 0) {
    proxy = new FaultProxy();
    const upstreamAddr = await proxy.add('dovecot', (bopts.tls ?? true) ? dovecot.tlsAddr : dovecot.plain);
    bopts = { ...bopts, upstreamAddr, pagePort: await freePort() };
  }
  const bridge = new Bridge({ dovecot, user, ...bopts });
  await bridge.start();
  if (proxy) await proxy.add('browser', `127.0.0.1:${bridge.port}`, `127.0.0.1:${bridge.pagePort}`);
  const browser = await launch();
  let page;
  try {
    page = await openPage(browser.context, bridge.url + path);
    await waitState(page.page, 'open', { testid: path.startsWith('widget') ? 'widget-state' : 'conn-state' });
  } catch (e) {
    await browser.close();
    await bridge.close();
    await proxy?.close();
    e.message += bridge.logTail();
    throw e;
  }
  return {
    dovecot, user, uids, bridge, browser, ...page,
    /** imap opens a raw IMAP connection as the user (close it with logout()). */
    imap: () => dovecot.connect(user),
    async close() {
      await browser.close();
      await bridge.close();
      await proxy?.close();
    },
  };
}

export { tid };
