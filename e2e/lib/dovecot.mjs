// The test suite's private Dovecot (e2e/servers/dovecot.sh) seen from Node:
// its addresses from the IMAPBRIDGE_DOVECOT_* environment, fresh users the way
// internal/dovecottest makes them (one passwd-file per user under passwd.d),
// seeding by raw IMAP APPEND, and a restart that keeps ports, users and mail.
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ImapClient, message } from './imap.mjs';

/** SCRIPT is dovecot.sh. */
export const SCRIPT = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'servers', 'dovecot.sh');
/** USERS_DIR is the directory of per-user passwd-files in the state directory (as dovecottest.UsersDir). */
export const USERS_DIR = 'passwd.d';

/** Dovecot describes the running instance; build it with {@link Dovecot.fromEnv}. */
export class Dovecot {
  constructor({ dir, plain, tlsAddr, ca }) {
    this.dir = dir;
    this.plain = plain;
    this.tlsAddr = tlsAddr;
    this.ca = ca;
  }

  /** fromEnv reads IMAPBRIDGE_DOVECOT_* (set by ci/e2e.sh); it throws when they are missing. */
  static fromEnv(env = process.env) {
    const need = ['IMAPBRIDGE_DOVECOT_DIR', 'IMAPBRIDGE_DOVECOT_PLAIN', 'IMAPBRIDGE_DOVECOT_TLS', 'IMAPBRIDGE_DOVECOT_CA'];
    for (const k of need) {
      if (!env[k]) throw new Error(`e2e/servers/dovecot: ${k} is not set (run: eval "$(bash e2e/servers/dovecot.sh env)")`);
    }
    return new Dovecot({ dir: env.IMAPBRIDGE_DOVECOT_DIR, plain: env.IMAPBRIDGE_DOVECOT_PLAIN,
      tlsAddr: env.IMAPBRIDGE_DOVECOT_TLS, ca: env.IMAPBRIDGE_DOVECOT_CA });
  }

  /** newUser adds a fresh user with an empty mailbox; names are unique across runs. */
  newUser(prefix = 'e2e') {
    const name = `${prefix}-${process.pid}-${crypto.randomBytes(5).toString('hex')}`;
    const password = 'pw-' + crypto.randomBytes(8).toString('hex');
    const dir = path.join(this.dir, USERS_DIR);
    const tmp = path.join(dir, `.new-${name}`);
    fs.writeFileSync(tmp, `${name}:${password}\n`, { mode: 0o644 });
    fs.chmodSync(tmp, 0o644);
    fs.renameSync(tmp, path.join(dir, name)); // complete before Dovecot can see it
    return { name, password };
  }

  /** connect logs in as user over the plain listener and returns the client. */
  async connect(user) {
    const c = await ImapClient.connect(this.plain);
    await c.login(user.name, user.password);
    return c;
  }

  /**
   * seed creates the extra mailboxes and appends messages (each {subject, ...}
   * for message(), or {raw} with the whole message; optional mailbox and
   * flags); it returns the UIDs in order.
   */
  async seed(user, { mailboxes = [], messages = [] } = {}) {
    const c = await this.connect(user);
    try {
      for (const m of mailboxes) await c.command(`CREATE "${m}"`);
      const uids = [];
      for (const m of messages) uids.push(await c.append(m.mailbox ?? 'INBOX', m.raw ?? message(m), m.flags ?? []));
      return uids;
    } finally {
      await c.logout();
    }
  }

  /** deliver appends one message to user's mailbox over a new connection and resolves with its UID when the server said OK. */
  async deliver(user, m, mailbox = 'INBOX') {
    const c = await this.connect(user);
    try {
      return await c.append(mailbox, message(m), m.flags ?? []);
    } finally {
      c.close();
    }
  }

  /** stop stops the instance (connections drop); resume brings it back. */
  stop() {
    this.#script('stop');
  }

  /** crash kills the instance with SIGKILL, master and children at once: no BYE, connections reset (security.md E5). */
  crash() {
    this.#script('crash');
  }

  /** resume starts the stopped instance again on the same ports with users and mail kept. */
  resume() {
    this.#script('resume');
  }

  /** restart is stop and resume. */
  restart() {
    this.#script('restart');
  }

  /**
   * dropInMaildir delivers a message the way an MTA writes a Maildir: a file
   * in the user's Maildir/new, picked up (and given a UID) by Dovecot at its
   * next look — also while Dovecot is stopped.
   */
  dropInMaildir(user, m) {
    const maildir = path.join(this.dir, 'mail', user.name, 'Maildir');
    const st = fs.statSync(maildir);
    const name = `${Date.now()}.e2e${crypto.randomBytes(6).toString('hex')}.localhost`;
    const tmp = path.join(maildir, 'tmp', name);
    fs.writeFileSync(tmp, message(m), { mode: 0o600 });
    fs.chownSync(tmp, st.uid, st.gid);
    fs.renameSync(tmp, path.join(maildir, 'new', name));
  }

  #script(cmd) {
    execFileSync('bash', [SCRIPT, cmd], { stdio: ['ignore', 'ignore', 'inherit'] });
  }
}
