/**
 * MailboxView: a UID-keyed cache of one mailbox kept in step with the server
 * through live events and, after every reconnect or event gap, a resync
 * (QRESYNC, CONDSTORE, or UIDNEXT + SEARCH ALL + flag batches). Each change
 * is reported exactly once: the cache, keyed by (uidValidity, uid), is the
 * dedupe set, so replayed events and overlapping resyncs are no-ops.
 */
import type { Client } from "./client.js";
import { Emitter } from "./events.js";
import type { FetchItem, Message, SelectResult } from "./protocol.js";
import { chunkUids, compactUids, inRanges, parseUidSet } from "./uidset.js";

/** LOAD_BATCH is how many messages one fetch of a full load asks for. */
export const LOAD_BATCH = 500;
/** FLAG_BATCH is how many UIDs one flags fetch of a resync without CONDSTORE asks for. */
export const FLAG_BATCH = 1000;
/** DEFAULT_VIEW_ITEMS are the items fetched for each message of a view. */
export const DEFAULT_VIEW_ITEMS: readonly FetchItem[] = ["uid", "flags", "envelope", "internaldate", "size"];

/** WatchOptions configure {@link Client.watch}. */
export interface WatchOptions {
  /** readOnly selects with EXAMINE. */
  readOnly?: boolean;
  /** items are fetched for every message (default {@link DEFAULT_VIEW_ITEMS}; uid and flags are always added). */
  items?: FetchItem[];
}

/** ViewMessage is a cached message: uid and flags always present. Replaced, never mutated, on change. */
export type ViewMessage = Message & { readonly uid: number; readonly flags: readonly string[] };

/** MailboxChange summarises one batch of changes. */
export interface MailboxChange {
  readonly added: readonly ViewMessage[];
  readonly removed: readonly ViewMessage[];
  readonly updated: readonly ViewMessage[];
  /** reset is true when UIDVALIDITY changed and the cache was dropped first. */
  readonly reset: boolean;
}

/** MailboxViewEvents maps each event of {@link MailboxView.on} to its payload. */
export interface MailboxViewEvents {
  /** exists: a message new to the view (initial load, live or found by resync), once per (uidValidity, uid). */
  exists: ViewMessage;
  /** expunge: a cached message is gone. */
  expunge: ViewMessage;
  /** flags: a cached message's flags changed (the new message object). */
  flags: ViewMessage;
  /** mailbox_reset: UIDVALIDITY changed; the cache was dropped and is being reloaded. */
  mailbox_reset: { readonly mailbox: string; readonly uidValidity: number };
  /** change: a batch of the above, for renderers. */
  change: MailboxChange;
  /** synced: a full load or resync finished; the cache equals the server's mailbox. */
  synced: { readonly uidValidity: number; readonly uidNext: number; readonly count: number };
}

const sameFlags = (a: readonly string[], b: readonly string[]): boolean =>
  a.length === b.length && [...a].sort().join("\n") === [...b].sort().join("\n");

/** MailboxView caches one mailbox; create it with {@link Client.watch}. */
export class MailboxView {
  /** mailbox is the watched mailbox's name. */
  readonly mailbox: string;
  private readonly client: Client;
  private readonly readOnly: boolean;
  private readonly items: FetchItem[];
  private readonly emitter: Emitter<MailboxViewEvents>;
  private readonly report: (e: unknown) => void;
  private readonly cache = new Map<number, ViewMessage>();
  private validity: number | undefined;
  private next = 1;
  private modseq: number | undefined;
  private chain: Promise<void> = Promise.resolve();
  private batch: { added: ViewMessage[]; removed: ViewMessage[]; updated: ViewMessage[]; reset: boolean } | undefined;
  private readonly offs: (() => void)[];
  private closed = false;

  /** @internal Use Client.watch. */
  constructor(client: Client, mailbox: string, o: WatchOptions, report: (e: unknown) => void) {
    this.client = client;
    this.mailbox = mailbox;
    this.readOnly = o.readOnly === true;
    this.items = [...new Set<FetchItem>(["uid", "flags", ...(o.items ?? DEFAULT_VIEW_ITEMS)])];
    this.report = report;
    this.emitter = new Emitter(report);
    const mine = (m: string): boolean => m === this.mailbox && this.validity !== undefined;
    this.offs = [
      client.on("exists", (e) => mine(e.mailbox) && e.count > this.cache.size && void this.run(() => this.fetchNew())),
      client.on("expunge", (e) => mine(e.mailbox) && this.change(() => this.remove(e.uid))),
      client.on("vanished", (e) => mine(e.mailbox) && this.change(() => this.removeSet(e.uids))),
      client.on("flags", (e) => mine(e.mailbox) && this.change(() => this.setFlags(e.uid, e.flags, e.modseq))),
      client.on("mailbox_reset", (e) => {
        if (e.mailbox !== this.mailbox) return;
        this.change(() => this.reset(e.uidValidity));
        void this.resync();
      }),
    ];
  }

  /** messages is the cache, keyed by UID. */
  get messages(): ReadonlyMap<number, ViewMessage> {
    return this.cache;
  }
  /** uidValidity is the cached UIDVALIDITY (undefined before the first load). */
  get uidValidity(): number | undefined {
    return this.validity;
  }
  /** uidNext is the lowest UID the view has not seen yet. */
  get uidNext(): number {
    return this.next;
  }
  /** highestModSeq is the last fully applied HIGHESTMODSEQ (CONDSTORE servers). */
  get highestModSeq(): number | undefined {
    return this.modseq;
  }

  /** on subscribes to a view event and returns the unsubscribe function. */
  on<K extends keyof MailboxViewEvents>(kind: K, handler: (payload: MailboxViewEvents[K]) => void): () => void {
    return this.emitter.on(kind, handler);
  }

  /** synced resolves after the next completed load or resync. */
  synced(): Promise<MailboxViewEvents["synced"]> {
    return new Promise((resolve) => {
      const off = this.on("synced", (s) => {
        off();
        resolve(s);
      });
    });
  }

  /** close stops following events and detaches the view from its client. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const off of this.offs) off();
    this.client.detach(this);
  }

  /**
   * resync brings the cache in step with the server (the client calls it
   * after every reconnect and event gap). Serialized with other view work.
   */
  resync(): Promise<void> {
    return this.run(() => this.doResync());
  }

  private run(fn: () => Promise<void>): Promise<void> {
    const p = this.chain.then(() => (this.closed ? undefined : fn()));
    this.chain = p.catch((e: unknown) => this.report(e));
    return p;
  }

  private change(fn: () => void): void {
    const outer = this.batch === undefined;
    if (outer) this.batch = { added: [], removed: [], updated: [], reset: false };
    try {
      fn();
    } finally {
      if (outer) {
        const b = this.batch;
        this.batch = undefined;
        if (b !== undefined && (b.added.length + b.removed.length + b.updated.length > 0 || b.reset)) this.emitter.emit("change", b);
      }
    }
  }

  private add(m: Message, minUid: number): void {
    const uid = m.uid;
    if (uid === undefined || uid < minUid || this.cache.has(uid)) return;
    const vm = Object.assign(Object.create(null) as object, m, { flags: m.flags ?? [] }) as ViewMessage;
    this.cache.set(uid, vm);
    if (uid >= this.next) this.next = uid + 1;
    this.batch?.added.push(vm);
    this.emitter.emit("exists", vm);
  }

  private remove(uid: number): void {
    const m = this.cache.get(uid);
    if (m === undefined) return;
    this.cache.delete(uid);
    this.batch?.removed.push(m);
    this.emitter.emit("expunge", m);
  }

  private removeSet(set: string): void {
    const ranges = parseUidSet(set);
    if (ranges === undefined) return;
    for (const uid of [...this.cache.keys()]) if (inRanges(ranges, uid)) this.remove(uid);
  }

  private setFlags(uid: number, flags: readonly string[] | undefined, modseq: number | undefined): void {
    const m = this.cache.get(uid);
    if (m === undefined || flags === undefined) return;
    if (modseq !== undefined && m.modseq !== undefined && modseq < m.modseq) return;
    if (sameFlags(m.flags, flags) && (modseq === undefined || modseq === m.modseq)) return;
    const extra = modseq !== undefined ? { flags, modseq } : { flags };
    const vm = Object.assign(Object.create(null) as object, m, extra) as ViewMessage;
    this.cache.set(uid, vm);
    if (sameFlags(m.flags, flags)) return;
    this.batch?.updated.push(vm);
    this.emitter.emit("flags", vm);
  }

  private reset(uidValidity: number): void {
    this.cache.clear();
    this.validity = undefined;
    this.next = 1;
    this.modseq = undefined;
    if (this.batch !== undefined) this.batch.reset = true;
    this.emitter.emit("mailbox_reset", { mailbox: this.mailbox, uidValidity });
  }

  private condstore(): boolean {
    return this.client.capabilities.has("CONDSTORE") || this.client.capabilities.has("QRESYNC");
  }

  private async fetchNew(): Promise<void> {
    const from = this.next;
    const r = await this.client.fetch({ uids: `${from}:*` }, { items: this.fetchItems() }, { priority: true });
    // "n:*" always returns the highest message, even one below n: drop it.
    this.change(() => {
      for (const m of r.messages) this.add(m, from);
    });
  }

  private fetchItems(): FetchItem[] {
    return this.condstore() && !this.items.includes("modseq") ? [...this.items, "modseq"] : this.items;
  }

  private async doResync(): Promise<void> {
    const c = this.client;
    const qresync = c.capabilities.has("QRESYNC");
    const condstore = this.condstore();
    const had = this.validity;
    const known = compactUids(this.cache.keys());
    const useQresync = qresync && had !== undefined && this.modseq !== undefined && this.modseq > 0;
    const r: SelectResult = await c.select(this.mailbox, {
      ...(this.readOnly ? { readOnly: true } : {}),
      ...(condstore ? { condstore: true } : {}),
      ...(useQresync ? { qresync: { uidValidity: had, modSeq: this.modseq ?? 0, ...(known !== "" ? { knownUids: known } : {}) } } : {}),
    }, { priority: true });
    if (had !== undefined && r.uidValidity !== had) this.change(() => this.reset(r.uidValidity));
    if (this.validity === undefined) {
      await this.load(r);
    } else {
      if (useQresync) {
        this.change(() => {
          for (const v of r.vanished ?? []) this.removeSet(v);
          for (const m of r.changed ?? []) if (m.uid !== undefined) this.setFlags(m.uid, m.flags, m.modseq);
        });
      } else {
        const snapshot = [...this.cache.keys()];
        const s = await c.search([], { priority: true });
        const present = parseUidSet(s.uids);
        if (present !== undefined) this.change(() => snapshot.forEach((u) => inRanges(present, u) || this.remove(u)));
        const batches = condstore && this.modseq !== undefined ? [["1:*", this.modseq] as const] : chunkUids(this.cache.keys(), FLAG_BATCH).map((b) => [b, undefined] as const);
        for (const [uids, since] of batches) {
          const f = await c.fetch({ uids }, { items: condstore ? ["uid", "flags", "modseq"] : ["uid", "flags"], ...(since !== undefined ? { changedSince: since } : {}) }, { priority: true });
          this.change(() => f.messages.forEach((m) => m.uid !== undefined && this.setFlags(m.uid, m.flags, m.modseq)));
        }
      }
      await this.fetchNew();
    }
    if (r.uidNext > this.next) this.next = r.uidNext;
    if (r.highestModSeq !== undefined) this.modseq = r.highestModSeq;
    this.emitter.emit("synced", { uidValidity: r.uidValidity, uidNext: this.next, count: this.cache.size });
  }

  private async load(r: SelectResult): Promise<void> {
    this.validity = r.uidValidity;
    const items = this.fetchItems();
    for (let lo = 1; lo <= r.exists; lo += LOAD_BATCH) {
      const hi = Math.min(r.exists, lo + LOAD_BATCH - 1);
      const f = await this.client.fetch({ seqs: `${lo}:${hi}` }, { items }, { priority: true });
      this.change(() => f.messages.forEach((m) => this.add(m, 1)));
    }
  }
}
