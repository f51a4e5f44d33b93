// A tiny IMAP4rev1 client over net/tls for the end-to-end tests: it seeds
// mailboxes (APPEND), and checks from the server's side what the page did
// (flags, moves, expunges). It is not a general client: one command at a
// time, responses kept as raw lines with literals inlined.
import net from 'node:net';
import tls from 'node:tls';
import fs from 'node:fs';

/** IMAP_TIMEOUT_MS bounds one command round trip (and the connect + greeting). */
export const IMAP_TIMEOUT_MS = 10_000;
/** MAX_RESPONSE_BYTES bounds what one command may receive before it fails. */
export const MAX_RESPONSE_BYTES = 16 << 20;

/** ImapError is a NO/BAD answer, a broken connection or a timeout. */
export class ImapError extends Error {
  constructor(message, status) {
    super(`e2e/imap: ${message}`);
    this.name = 'ImapError';
    this.status = status;
  }
}

/** quote returns s as an IMAP quoted string. */
export function quote(s) {
  if (/[\r\n\0]/.test(s)) throw new ImapError(`cannot quote ${JSON.stringify(s)}`);
  return '"' + s.replace(/[\\"]/g, (c) => '\\' + c) + '"';
}

/** ImapClient is one authenticated-or-not IMAP connection. */
export class ImapClient {
  #sock;
  #buf = Buffer.alloc(0);
  #waiter = null; // () => void, called when data or an error arrives
  #err = null;
  #tag = 0;
  #idleTag = '';

  constructor(sock) {
    this.#sock = sock;
    sock.on('data', (d) => {
      this.#buf = Buffer.concat([this.#buf, d]);
      this.#wake();
    });
    sock.on('error', (e) => { this.#err ??= e; this.#wake(); });
    sock.on('close', () => { this.#err ??= new ImapError('connection closed'); this.#wake(); });
  }

  /**
   * connect opens a connection to addr ("host:port") and reads the greeting.
   * With tls, ca names the PEM file of the CA that signed the server's certificate.
   */
  static async connect(addr, { useTLS = false, ca = '' } = {}) {
    const i = addr.lastIndexOf(':');
    const host = addr.slice(0, i);
    const port = Number(addr.slice(i + 1));
    const sock = await new Promise((resolve, reject) => {
      const s = useTLS
        ? tls.connect({ host, port, servername: 'localhost', ca: ca ? fs.readFileSync(ca) : undefined }, () => resolve(s))
        : net.connect({ host, port }, () => resolve(s));
      s.once('error', reject);
      s.setTimeout(IMAP_TIMEOUT_MS, () => s.destroy(new ImapError('connect timeout')));
    });
    sock.setTimeout(0);
    sock.setNoDelay(true);
    const c = new ImapClient(sock);
    const greeting = await c.#readLine(Date.now() + IMAP_TIMEOUT_MS);
    if (!greeting.startsWith('* OK')) {
      c.close();
      throw new ImapError(`greeting: ${greeting}`);
    }
    return c;
  }

  /** login authenticates with LOGIN. */
  async login(user, password) {
    await this.command(`LOGIN ${quote(user)} ${quote(password)}`);
  }

  /**
   * command sends one command (without tag and CRLF) and resolves with its
   * untagged lines when the server answers OK; NO or BAD reject with ImapError.
   * A literal argument is sent synchronizing ({n}, then the data after the
   * server's "+"): Courier offers no LITERAL+ and answered {n+} with NO.
   */
  async command(text, literal) {
    return (await this.#run(text, literal)).lines;
  }

  /** append adds msg (CRLF line endings) to mailbox with flags; it resolves with the new UID (UIDPLUS), or 0. */
  async append(mailbox, msg, flags = []) {
    const { tagged } = await this.#run(`APPEND ${quote(mailbox)} (${flags.join(' ')})`, msg);
    const m = /\[APPENDUID \d+ (\d+)\]/i.exec(tagged);
    return m ? Number(m[1]) : 0;
  }

  async #run(text, literal) {
    const tag = `E${++this.#tag}`;
    const deadline = Date.now() + IMAP_TIMEOUT_MS;
    if (literal !== undefined) {
      const body = Buffer.isBuffer(literal) ? literal : Buffer.from(literal);
      this.#sock.write(`${tag} ${text} {${body.length}}\r\n`);
      for (;;) {
        const line = await this.#readLine(deadline);
        if (line.startsWith('+')) break;
        if (line.startsWith(tag + ' ')) throw new ImapError(`${text.split(' ')[0]}: ${line}`, line.slice(tag.length + 1).split(' ')[0].toUpperCase());
      }
      this.#sock.write(Buffer.concat([body, Buffer.from('\r\n')]));
    } else {
      this.#sock.write(`${tag} ${text}\r\n`);
    }
    const lines = [];
    for (;;) {
      const line = await this.#readLine(deadline);
      if (line.startsWith(tag + ' ')) {
        const status = line.slice(tag.length + 1).split(' ')[0].toUpperCase();
        if (status !== 'OK') throw new ImapError(`${text.split(' ')[0]}: ${line}`, status);
        return { lines, tagged: line };
      }
      lines.push(line);
    }
  }

  /** idle selects mailbox and enters IDLE; read pushed lines with nextMatch, end with idleDone. */
  async idle(mailbox) {
    await this.examine(mailbox);
    this.#idleTag = `E${++this.#tag}`;
    this.#sock.write(`${this.#idleTag} IDLE\r\n`);
    const deadline = Date.now() + IMAP_TIMEOUT_MS;
    for (;;) {
      const line = await this.#readLine(deadline);
      if (line.startsWith('+')) return;
      if (line.startsWith(this.#idleTag + ' ')) throw new ImapError(`IDLE: ${line}`);
    }
  }

  /** nextMatch reads lines until one matches re and resolves with the epoch time (ms) it was read. */
  async nextMatch(re, timeoutMs = IMAP_TIMEOUT_MS) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const line = await this.#readLine(deadline);
      if (re.test(line)) return performance.timeOrigin + performance.now();
    }
  }

  /** idleDone ends IDLE. */
  async idleDone() {
    this.#sock.write('DONE\r\n');
    const deadline = Date.now() + IMAP_TIMEOUT_MS;
    for (;;) {
      const line = await this.#readLine(deadline);
      if (line.startsWith(this.#idleTag + ' ')) return;
    }
  }

  /** select opens mailbox read-only (EXAMINE) and returns its EXISTS count. */
  async examine(mailbox) {
    const lines = await this.command(`EXAMINE ${quote(mailbox)}`);
    const m = lines.map((l) => /^\* (\d+) EXISTS/i.exec(l)).find(Boolean);
    return m ? Number(m[1]) : 0;
  }

  /** uids returns the UIDs of mailbox matching criteria (default ALL), ascending. */
  async uids(mailbox, criteria = 'ALL') {
    await this.examine(mailbox);
    const lines = await this.command(`UID SEARCH ${criteria}`);
    const out = [];
    for (const l of lines) {
      const m = /^\* SEARCH(.*)$/i.exec(l);
      if (m) out.push(...m[1].trim().split(/\s+/).filter(Boolean).map(Number));
    }
    return out.sort((a, b) => a - b);
  }

  /** flags returns a Map from UID to its flags (lower-cased) for every message of mailbox. */
  async flags(mailbox) {
    const n = await this.examine(mailbox);
    const out = new Map();
    if (n === 0) return out;
    const lines = await this.command('UID FETCH 1:* (UID FLAGS)');
    for (const l of lines) {
      const uid = /\bUID (\d+)/i.exec(l);
      const fl = /\bFLAGS \(([^)]*)\)/i.exec(l);
      if (uid && fl) out.set(Number(uid[1]), fl[1].split(/\s+/).filter(Boolean).map((f) => f.toLowerCase()));
    }
    return out;
  }

  /** subjects returns a Map from UID to the Subject header of each message of mailbox. */
  async subjects(mailbox) {
    const n = await this.examine(mailbox);
    const out = new Map();
    if (n === 0) return out;
    const lines = await this.command('UID FETCH 1:* (UID BODY.PEEK[HEADER.FIELDS (SUBJECT)])');
    for (const l of lines) {
      const uid = /\bUID (\d+)/i.exec(l);
      const s = /Subject:\s*([^\r\n]*)/i.exec(l);
      if (uid) out.set(Number(uid[1]), s ? s[1].trim() : '');
    }
    return out;
  }

  /** logout ends the session politely and closes the socket. */
  async logout() {
    try {
      await this.command('LOGOUT');
    } catch {
      // the server may close before the tagged OK
    }
    this.close();
  }

  /** close drops the connection. */
  close() {
    this.#sock.destroy();
  }

  #wake() {
    const w = this.#waiter;
    this.#waiter = null;
    if (w) w();
  }

  // readLine returns the next response line without CRLF; a literal ({n})
  // at its end is read and inlined, followed by the rest of the line.
  async #readLine(deadline) {
    let line = '';
    for (;;) {
      const i = this.#buf.indexOf('\r\n');
      if (i >= 0) {
        const part = this.#buf.subarray(0, i).toString('utf8');
        const lit = /\{(\d+)\}$/.exec(part);
        if (!lit) {
          this.#buf = this.#buf.subarray(i + 2);
          return line + part;
        }
        const n = Number(lit[1]);
        if (n > MAX_RESPONSE_BYTES) throw new ImapError(`literal of ${n} bytes`);
        if (this.#buf.length >= i + 2 + n) {
          line += part + '\r\n' + this.#buf.subarray(i + 2, i + 2 + n).toString('utf8');
          this.#buf = this.#buf.subarray(i + 2 + n);
          continue;
        }
      } else if (this.#buf.length > MAX_RESPONSE_BYTES) {
        throw new ImapError('response line too long');
      }
      if (this.#err) throw this.#err instanceof ImapError ? this.#err : new ImapError(this.#err.message);
      const left = deadline - Date.now();
      if (left <= 0) throw new ImapError('timeout');
      await new Promise((resolve) => {
        const t = setTimeout(resolve, left);
        this.#waiter = () => { clearTimeout(t); resolve(); };
      });
    }
  }
}

/** message builds a small RFC 5322 text message with CRLF line endings. */
export function message({ from = 'Alice Example <alice@example.com>', to = 'demo@example.com', subject, body = 'Hello.', date = new Date(), html = '' }) {
  const head = [
    `From: ${from}`,
    `To: ${to}`,
    `Subject: ${subject}`,
    `Date: ${date.toUTCString().replace('GMT', '+0000')}`,
    `Message-ID: <${Math.random().toString(36).slice(2)}.${Date.now()}@e2e.test>`,
    'MIME-Version: 1.0',
  ];
  if (!html) {
    head.push('Content-Type: text/plain; charset=utf-8');
    return head.join('\r\n') + '\r\n\r\n' + body.replace(/\r?\n/g, '\r\n') + '\r\n';
  }
  const b = 'e2e-boundary-' + Math.random().toString(36).slice(2);
  head.push(`Content-Type: multipart/alternative; boundary="${b}"`);
  return head.join('\r\n') + '\r\n\r\n' +
    `--${b}\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n${body}\r\n` +
    `--${b}\r\nContent-Type: text/html; charset=utf-8\r\n\r\n${html}\r\n` +
    `--${b}--\r\n`;
}
