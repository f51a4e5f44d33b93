/**
 * Hub: one bridge WebSocket shared by the pages ("tabs") of one origin. It
 * runs in a SharedWorker (shared-worker.ts) or in the leader tab
 * (shared.ts) and speaks a tiny message protocol with each tab's virtual
 * socket, so every tab runs an ordinary {@link Client} on top of it: each tab
 * has its own request ids (rewritten here), its own event sequence, and sees
 * every close of the real socket, on which its Client acts as usual
 * (reconnect, new token, failure reason).
 *
 * The IMAP session has one selected mailbox. Events of a mailbox go to the
 * tabs that selected it; a tab whose mailbox is not the selected one is
 * "stale": before its next mailbox request (or heartbeat noop) the hub
 * selects its mailbox again and hands it a sequence gap, so its view
 * resynchronises. Tabs on the same mailbox — the usual case — all stay live.
 * @internal
 */

/** TabMessage goes from a tab's virtual socket to the hub. */
export type TabMessage =
  | { readonly t: "open"; readonly tab: string; readonly url: string; readonly protocols: readonly string[] }
  | { readonly t: "send"; readonly tab: string; readonly data: string }
  | { readonly t: "close"; readonly tab: string };

/** HubMessage goes from the hub to one tab's virtual socket ("hub" announces a new hub to all). */
export type HubMessage =
  | { readonly t: "opened"; readonly tab: string; readonly hub: string }
  | { readonly t: "frame"; readonly tab: string; readonly data: string }
  | { readonly t: "closed"; readonly tab: string; readonly code: number; readonly reason: string }
  | { readonly t: "hub"; readonly hub: string };

/** LINGER_MS keeps the bridge socket open this long after the last tab left (a reload reuses it). */
export const LINGER_MS = 3000;
/** Defaults until hello announces the bridge's limits (docs/protocol.md §8). */
const DEFAULT_LIMITS = { maxInFlight: 8, framesPerSecond: 20, frameBurst: 40 };
/** Ops that act on the selected mailbox. */
const NEEDS_MAILBOX = new Set(["fetch", "search", "store", "copy", "move", "expunge", "noop", "imaplib", "find", "sort", "thread"]);

/** identity names whose session a token opens: iss, sub, ups and imap_user of its (unverified) payload, else the token itself. */
export function identity(url: string, protocols: readonly string[]): string {
  const token = protocols.find((p) => p.startsWith("bearer."))?.slice(7) ?? "";
  try {
    const b64 = token.split(".")[1] ?? "";
    const c = JSON.parse(atob(b64.replace(/-/g, "+").replace(/_/g, "/"))) as Record<string, unknown>;
    return JSON.stringify([url, c["iss"], c["sub"], c["ups"], c["imap_user"]]);
  } catch {
    return JSON.stringify([url, token]);
  }
}

interface Selection { readonly mailbox: string; readonly readOnly: boolean }

interface Tab {
  readonly id: string;
  readonly post: (m: HubMessage) => void;
  seq: number;
  sel: Selection | undefined;
  stale: boolean;
  opened: boolean;
  /** watch is the tab's status watch: its mailboxes, null for every subscribed one, undefined for none. */
  watch?: string[] | null | undefined;
}

interface Outgoing {
  readonly tab: Tab | undefined;
  readonly id: string;
  readonly data: string;
  readonly op: string;
  readonly sel?: Selection;
  /** silent is a store's own silent flag (the hub always asks for the flag echoes, see echo). */
  readonly silent?: boolean;
  /** mailbox is the mailbox selected when the request went out. */
  mailbox?: string | undefined;
}

type Frame = Record<string, unknown> & { type?: unknown; id?: unknown; seq?: unknown; mailbox?: unknown; limits?: Record<string, number> };

/** Hub is the shared session of one identity. */
export class Hub {
  private readonly tabs = new Map<string, Tab>();
  private ws: WebSocket | undefined;
  private hello: Frame | undefined;
  private current: Selection | undefined;
  private readonly inFlight = new Map<string, Outgoing>();
  private queue: Outgoing[] = [];
  private ids = 0;
  private tokens = DEFAULT_LIMITS.frameBurst;
  private refilled = Date.now();
  private pump: ReturnType<typeof setTimeout> | undefined;
  private linger: ReturnType<typeof setTimeout> | undefined;
  private password: string | undefined;
  private pendingPassword: string | undefined;
  private loginWaiters: { readonly tab: Tab; readonly id: string }[] = [];
  /** tabIds maps the hub's request ids to the tab's own. */
  private readonly tabIds = new Map<string, string>();

  /** Creates a hub; name goes into "opened" so tabs know which hub they are on. */
  constructor(readonly name: string, private readonly WS: typeof WebSocket, private readonly onEmpty: () => void) {}

  /** size is the number of tabs. */
  get size(): number {
    return this.tabs.size;
  }

  /** open attaches a tab; the first one (or the first after the socket closed) dials the bridge with its token. */
  open(id: string, url: string, protocols: readonly string[], post: (m: HubMessage) => void): void {
    clearTimeout(this.linger);
    const tab: Tab = { id, post, seq: 0, sel: undefined, stale: false, opened: false };
    this.tabs.set(id, tab);
    if (this.ws === undefined) {
      const ws = new this.WS(url, [...protocols]);
      this.ws = ws;
      ws.onopen = () => ws === this.ws && this.tabs.forEach((t) => this.opened(t));
      ws.onmessage = (ev) => ws === this.ws && this.onFrame(String(ev.data));
      ws.onclose = (ev) => ws === this.ws && this.onClose(ev.code, ev.reason);
      return;
    }
    if (this.ws.readyState === 1) this.opened(tab);
  }

  /** send takes one request frame of a tab. */
  send(id: string, data: string): void {
    // data may be rewritten below (a select made read-write)
    const tab = this.tabs.get(id);
    if (tab === undefined) return;
    let f: Frame;
    try {
      f = JSON.parse(data) as Frame;
    } catch {
      return;
    }
    const op = String(f["op"]);
    if (op === "login" && this.password !== undefined && f["password"] === this.password) {
      // The shared session is logged in already, with this password.
      tab.post({ t: "frame", tab: id, data: JSON.stringify({ type: "response", id: f.id, result: {} }) });
      return;
    }
    if (op === "login" && this.pendingPassword !== undefined && f["password"] === this.pendingPassword) {
      // Another tab's login with this password is under way: answer with its result.
      this.loginWaiters.push({ tab, id: String(f.id) });
      return;
    }
    let sel: Selection | undefined;
    if (op === "select") {
      // Shared, a mailbox is always selected read-write (a read-only token still gets EXAMINE from the
      // bridge): flipping between SELECT and EXAMINE would break the other tabs' writes and imaplib state.
      sel = { mailbox: String(f["mailbox"]), readOnly: false };
      if (f["readOnly"] === true) data = JSON.stringify({ ...f, readOnly: undefined });
    }
    else if (op === "imaplib" && /^(select|examine)$/.test(String(f["cmd"]))) {
      const a = f["args"] as unknown[] | undefined;
      sel = { mailbox: String(a?.[0] ?? "INBOX"), readOnly: f["cmd"] === "examine" || a?.[1] === true };
    } else if (NEEDS_MAILBOX.has(op) && tab.sel !== undefined && !satisfies(this.current, tab.sel, op)) {
      // The connection has another mailbox selected: select this tab's again first.
      const again = { mailbox: tab.sel.mailbox, readOnly: false };
      this.enqueue({ tab: undefined, id: this.nextId(), op: "select", sel: again, data: JSON.stringify({ id: "", op: "select", mailbox: again.mailbox }) });
    }
    if (sel !== undefined) tab.sel = sel;
    if (op === "login") this.pendingPassword = String(f["password"]);
    // A store's flag echoes are its result, not events (docs/protocol.md §5): the hub asks for them
    // even when the tab did not, and hands them to the other tabs as flags events (see echo).
    const silent = op === "store" && f["silent"] === true;
    if (silent) data = JSON.stringify({ ...f, silent: undefined });
    if (op === "watch" || op === "unwatch") data = this.watchUnion(tab, f);
    const hid = this.nextId();
    this.tabIds.set(hid, String(f.id));
    this.enqueue({ tab, id: hid, op, data, ...(sel !== undefined ? { sel } : {}), ...(silent ? { silent } : {}) });
  }

  /** close detaches a tab; the socket closes LINGER_MS after the last one. */
  close(id: string): void {
    if (!this.tabs.delete(id)) return;
    this.queue = this.queue.filter((o) => o.tab?.id !== id || (this.tabIds.delete(o.id) && false));
    if (this.tabs.size === 0) {
      clearTimeout(this.linger);
      this.linger = setTimeout(() => this.shutdown(1000, "no tabs"), LINGER_MS);
    }
  }

  /** shutdown closes the bridge socket and tells every tab (code 4001 hands them to the next hub). */
  shutdown(code: number, reason: string): void {
    const ws = this.ws;
    if (ws !== undefined) {
      ws.onopen = ws.onmessage = ws.onclose = null;
      try {
        ws.close(1000);
      } catch {
        // already closed
      }
    }
    this.onClose(code, reason);
  }

  /**
   * watchUnion records a tab's watch (or unwatch) and returns the frame to send: the session has one watch, so
   * it covers every tab's mailboxes (every subscribed one if a tab asked for that); an unwatch while other tabs
   * still watch re-sends their union. Each tab's StatusWatch keeps only its own mailboxes.
   */
  private watchUnion(tab: Tab, f: Frame): string {
    tab.watch = f["op"] === "unwatch" ? undefined : Array.isArray(f["mailboxes"]) ? (f["mailboxes"] as string[]) : null;
    const sets = [...this.tabs.values()].map((t) => t.watch).filter((w) => w !== undefined);
    if (sets.length === 0) return JSON.stringify({ id: f.id, op: "unwatch" });
    if (sets.includes(null)) return JSON.stringify({ id: f.id, op: "watch" });
    return JSON.stringify({ id: f.id, op: "watch", mailboxes: [...new Set(sets.flatMap((w) => w ?? []))].sort() });
  }

  private nextId(): string {
    return "h" + (++this.ids).toString(36);
  }

  private opened(tab: Tab): void {
    if (tab.opened) return;
    tab.opened = true;
    tab.post({ t: "opened", tab: tab.id, hub: this.name });
    if (this.hello !== undefined) this.greet(tab);
  }

  private greet(tab: Tab): void {
    tab.seq = 0;
    tab.post({ t: "frame", tab: tab.id, data: JSON.stringify({ ...this.hello, seq: 0 }) });
  }

  private enqueue(o: Outgoing): void {
    this.queue.push(o);
    this.drain();
  }

  private drain(): void {
    const ws = this.ws;
    const lim = { ...DEFAULT_LIMITS, ...this.hello?.limits };
    const now = Date.now();
    this.tokens = Math.min(lim.frameBurst, this.tokens + ((now - this.refilled) * lim.framesPerSecond) / 1000);
    this.refilled = now;
    while (ws !== undefined && ws.readyState === 1 && this.queue.length > 0 && this.inFlight.size < lim.maxInFlight) {
      if (this.tokens < 1) {
        clearTimeout(this.pump);
        this.pump = setTimeout(() => this.drain(), Math.ceil(1000 / lim.framesPerSecond));
        return;
      }
      const o = this.queue.shift()!;
      this.tokens--;
      if (o.sel !== undefined) this.select(o.sel, o.tab);
      const f = JSON.parse(o.data) as Frame;
      f.id = o.id;
      o.mailbox = this.current?.mailbox;
      this.inFlight.set(o.id, o);
      ws.send(JSON.stringify(f));
    }
  }

  /** select records that the connection now has sel selected, marking or waking tabs. */
  private select(sel: Selection, by: Tab | undefined): void {
    this.current = sel;
    for (const t of this.tabs.values()) {
      if (t.sel === undefined) continue;
      if (t.sel.mailbox !== sel.mailbox) t.stale = true;
      else if (t.stale) {
        t.stale = false;
        // It missed this mailbox's events: a gap makes its Client resync.
        if (t !== by || sel !== t.sel) t.post({ t: "frame", tab: t.id, data: JSON.stringify({ type: "event", seq: (t.seq += 2), event: "resync" }) });
      }
    }
  }

  private onFrame(data: string): void {
    let f: Frame;
    try {
      f = JSON.parse(data) as Frame;
    } catch {
      return;
    }
    if (f.type === "hello") {
      this.hello = f;
      this.tokens = f.limits?.["frameBurst"] ?? DEFAULT_LIMITS.frameBurst;
      this.tabs.forEach((t) => t.opened && this.greet(t));
      return;
    }
    if (f.type === "event") {
      for (const t of this.tabs.values()) {
        // A status event (watch) is about any mailbox: every tab hears it.
        if (typeof f.mailbox === "string" && f["event"] !== "status" && (t.sel?.mailbox !== f.mailbox || t.stale)) continue;
        t.post({ t: "frame", tab: t.id, data: JSON.stringify({ ...f, seq: ++t.seq }) });
      }
      return;
    }
    const o = typeof f.id === "string" ? this.inFlight.get(f.id) : undefined;
    if (o === undefined) {
      // Not tied to a request: every tab hears it.
      if (f.id === undefined) this.tabs.forEach((t) => t.post({ t: "frame", tab: t.id, data }));
      return;
    }
    this.inFlight.delete(o.id);
    const tabId = this.tabIds.get(o.id);
    this.tabIds.delete(o.id);
    if (f.type === "error" && o.op === "select") this.current = undefined;
    if (o.op === "login") {
      if (f.type === "response") this.password = this.pendingPassword;
      this.pendingPassword = undefined;
      for (const w of this.loginWaiters.splice(0)) w.tab.post({ t: "frame", tab: w.tab.id, data: JSON.stringify({ ...f, id: w.id }) });
    }
    if (o.op === "store" && f.type === "response") f = this.echo(o, f);
    if (o.tab !== undefined && this.tabs.get(o.tab.id) === o.tab) o.tab.post({ t: "frame", tab: o.tab.id, data: JSON.stringify({ ...f, id: tabId }) });
    this.drain();
  }

  /**
   * echo hands a store's flag echoes to the other tabs on its mailbox as flags events (on separate
   * connections they would have heard them as unsolicited FETCHes) and returns the response the
   * storing tab gets: without the echoes when it asked for a silent store.
   */
  private echo(o: Outgoing, f: Frame): Frame {
    const result = f["result"] as { messages?: unknown } | undefined;
    const messages = Array.isArray(result?.messages) ? (result.messages as Record<string, unknown>[]) : [];
    for (const t of this.tabs.values()) {
      if (t === o.tab || o.mailbox === undefined || t.sel?.mailbox !== o.mailbox || t.stale) continue;
      for (const m of messages) {
        if (typeof m["uid"] !== "number" || !Array.isArray(m["flags"])) continue;
        const ev = { type: "event", seq: ++t.seq, event: "flags", mailbox: o.mailbox, uid: m["uid"], seqnum: m["seq"], flags: m["flags"], ...(m["modseq"] !== undefined ? { modseq: m["modseq"] } : {}) };
        t.post({ t: "frame", tab: t.id, data: JSON.stringify(ev) });
      }
    }
    return o.silent === true ? { ...f, result: { ...result, messages: [] } } : f;
  }

  private onClose(code: number, reason: string): void {
    this.ws = undefined;
    this.hello = undefined;
    this.current = undefined;
    this.password = this.pendingPassword = undefined;
    this.loginWaiters = [];
    this.inFlight.clear();
    this.tabIds.clear();
    this.queue = [];
    const tabs = [...this.tabs.values()];
    this.tabs.clear();
    for (const t of tabs) t.post({ t: "closed", tab: t.id, code, reason });
    this.onEmpty();
  }
}

/** satisfies reports whether the selected mailbox serves a tab's request (read-write serves read-only too). */
function satisfies(cur: Selection | undefined, want: Selection, op: string): boolean {
  if (cur === undefined || cur.mailbox !== want.mailbox) return false;
  const writes = op !== "noop" && op !== "fetch" && op !== "search";
  return !cur.readOnly || (want.readOnly && !writes);
}

/** Registry holds one hub per identity (the bridge URL and the token's user). */
export class Registry {
  private readonly hubs = new Map<string, Hub>();
  private readonly where = new Map<string, Hub>();

  /** Creates a registry whose hubs are named name and dial with WS. */
  constructor(private readonly name: string, private readonly WS: typeof WebSocket) {}

  /** handle dispatches one tab message; post answers that tab. */
  handle(m: TabMessage, post: (m: HubMessage) => void): void {
    if (m.t === "open") {
      const key = identity(m.url, m.protocols);
      let hub = this.hubs.get(key);
      if (hub === undefined) {
        const h = new Hub(this.name, this.WS, () => {
          if (this.hubs.get(key) === h) this.hubs.delete(key);
          for (const [tab, x] of this.where) if (x === h) this.where.delete(tab);
        });
        hub = h;
        this.hubs.set(key, h);
      }
      this.where.set(m.tab, hub);
      hub.open(m.tab, m.url, m.protocols, post);
      return;
    }
    const hub = this.where.get(m.tab);
    if (hub === undefined) {
      if (m.t === "send") post({ t: "closed", tab: m.tab, code: 1006, reason: "no such shared session" });
      return;
    }
    if (m.t === "send") hub.send(m.tab, m.data);
    else {
      this.where.delete(m.tab);
      hub.close(m.tab);
    }
  }

  /** shutdown ends every hub (the leader tab is going away): tabs reconnect to the next hub at once. */
  shutdown(): void {
    for (const h of [...this.hubs.values()]) h.shutdown(4001, "shared connection handed over");
  }
}
