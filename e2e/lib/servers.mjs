// The other IMAP servers of the suite (e2e/servers/cyrus.sh, courier.sh) seen
// from Node, with the same interface as dovecot.mjs: addresses from the
// IMAPBRIDGE_<NAME>_* environment, fresh users (the script's adduser),
// seeding by raw IMAP APPEND. Mailbox names of the seed are written with "/"
// and mapped into the server's personal namespace ("Archive" is
// "INBOX.Archive" on Cyrus and Courier), as internal/imapservers does.
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Dovecot } from './dovecot.mjs';
import { message } from './imap.mjs';

/** PROFILES are the namespace facts of each server (as internal/imapservers.Table). */
export const PROFILES = {
  cyrus: { prefix: 'INBOX.', separator: '.' },
  courier: { prefix: 'INBOX.', separator: '.' },
};

/** ImapServer is a running Cyrus or Courier fixture; build it with {@link ImapServer.fromEnv}. */
export class ImapServer extends Dovecot {
  constructor(name, o) {
    super(o);
    this.name = name;
    this.profile = PROFILES[name];
    this.script = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'servers', `${name}.sh`);
  }

  /** fromEnv reads IMAPBRIDGE_<NAME>_* (set by ci/e2e.sh); it throws when they are missing. */
  static fromEnv(name, env = process.env) {
    const k = (s) => `IMAPBRIDGE_${name.toUpperCase()}_${s}`;
    for (const s of ['DIR', 'PLAIN', 'TLS', 'CA']) {
      if (!env[k(s)]) throw new Error(`e2e/servers/${name}: ${k(s)} is not set (run: eval "$(bash e2e/servers/${name}.sh env)")`);
    }
    return new ImapServer(name, { dir: env[k('DIR')], plain: env[k('PLAIN')], tlsAddr: env[k('TLS')], ca: env[k('CA')] });
  }

  /** mailbox maps a "/"-separated personal path to the server's name for it. */
  mailbox(p) {
    return p.toUpperCase() === 'INBOX' ? p : this.profile.prefix + p.split('/').join(this.profile.separator);
  }

  /** newUser adds a fresh user (no "." in the name: it is the separator). */
  newUser(prefix = 'e2e') {
    const name = `${prefix}-${process.pid}-${crypto.randomBytes(5).toString('hex')}`;
    const password = 'pw-' + crypto.randomBytes(8).toString('hex');
    execFileSync('bash', [this.script, 'adduser', name, password], {
      stdio: ['ignore', 'ignore', 'inherit'],
      env: { ...process.env, [`IMAPBRIDGE_${this.name.toUpperCase()}_DIR`]: this.dir },
    });
    return { name, password };
  }

  /** seed creates the mailboxes and appends the messages, names mapped into the namespace. */
  async seed(user, { mailboxes = [], messages = [] } = {}) {
    const c = await this.connect(user);
    try {
      for (const m of mailboxes) await c.command(`CREATE "${this.mailbox(m)}"`);
      const uids = [];
      for (const m of messages) uids.push(await c.append(this.mailbox(m.mailbox ?? 'INBOX'), m.raw ?? message(m), m.flags ?? []));
      return uids;
    } finally {
      await c.logout();
    }
  }
}
