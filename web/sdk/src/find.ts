/**
 * @imapbridge/sdk/find — typed search, sort, conversations (threads) and live
 * status of every folder (docs/protocol.md "find", "sort, thread", "watch").
 * A separate entry point: the core bundle does not grow.
 *
 * find/sort/thread act on the selected mailbox; results are UIDs (a compact
 * set for find, an ordered list for sort, a tree per thread) plus totals, so
 * a virtual list can page through them and fetch only what it shows.
 */
import type { Client } from "./client.js";
import type { StatusResult, StatusValues } from "./protocol.js";

/** Criteria is a typed search program: every member set must match; not/or nest. Dates are "YYYY-MM-DD". */
export interface Criteria {
  uids?: string;
  from?: string[]; to?: string[]; cc?: string[]; bcc?: string[];
  subject?: string[]; body?: string[]; text?: string[];
  header?: { name: string; value: string }[];
  since?: string; before?: string; on?: string;
  sentSince?: string; sentBefore?: string; sentOn?: string;
  larger?: number; smaller?: number;
  flags?: string[]; notFlags?: string[];
  modSeq?: number;
  not?: Criteria[];
  or?: [Criteria, Criteria][];
}

/** CRITERIA_ORDER is the members' canonical (fixture) order. */
const CRITERIA_ORDER = ["uids", "from", "to", "cc", "bcc", "subject", "body", "text", "header", "since", "before", "on",
  "sentSince", "sentBefore", "sentOn", "larger", "smaller", "flags", "notFlags", "modSeq", "not", "or"] as const;

/** canonical returns c with its members (and nested ones) in canonical order, empty ones dropped. */
export function canonical(c: Criteria): Criteria {
  const out: Record<string, unknown> = {};
  for (const k of CRITERIA_ORDER) {
    const v = c[k];
    if (v === undefined || v === null || v === "" || v === 0 || (Array.isArray(v) && v.length === 0)) continue;
    if (k === "not") out[k] = (v as Criteria[]).map(canonical);
    else if (k === "or") out[k] = (v as [Criteria, Criteria][]).map(([a, b]) => [canonical(a), canonical(b)]);
    else if (k === "header") out[k] = (v as { name: string; value: string }[]).map((h) => ({ name: h.name, value: h.value }));
    else out[k] = v;
  }
  return out as Criteria;
}

/** Page selects part of a result: skip offset entries, return at most limit (bridge cap 5000). */
export interface Page { offset?: number; limit?: number }

/** FindResult: the page of matching UIDs (highest first, as a compact set) and the totals. */
export interface FindResult { readonly uids: string; readonly total: number; readonly min: number; readonly max: number; readonly esearch: boolean }

/** SortKeyName is a sort key (RFC 5256; display* need SORT=DISPLAY or the fallback). */
export type SortKeyName = "arrival" | "cc" | "date" | "from" | "size" | "subject" | "to" | "displayfrom" | "displayto";
/** SortKey is one sort key, optionally reversed. */
export interface SortKey { key: SortKeyName; reverse?: boolean }
/** SortResult: the page of sorted UIDs in order; fallback when the bridge sorted (no SORT). */
export interface SortResult { readonly uids: readonly number[]; readonly total: number; readonly fallback: boolean }

/** ThreadNode is a message and its replies; uid 0 is a missing parent grouping its children. */
export interface ThreadNode { readonly uid: number; readonly children?: readonly ThreadNode[] }
/** ThreadResult: the page of threads; total threads, messages threaded; fallback when the bridge threaded. */
export interface ThreadResult { readonly threads: readonly ThreadNode[]; readonly total: number; readonly messages: number; readonly fallback: boolean }
/** ThreadOptions: algorithm (default "references"), criteria, newest thread first, page. */
export interface ThreadOptions extends Page { algorithm?: "references" | "orderedsubject"; where?: Criteria; reverse?: boolean }

function paged(p: Page = {}): Record<string, number> {
  const o: Record<string, number> = {};
  if (p.offset !== undefined && p.offset > 0) o["offset"] = p.offset;
  if (p.limit !== undefined && p.limit > 0) o["limit"] = p.limit;
  return o;
}

function where(c: Criteria | undefined): Record<string, unknown> {
  return c === undefined ? {} : { where: canonical(c) };
}

/** find searches the selected mailbox (UID SEARCH, ESEARCH when offered). */
export function find(client: Client, criteria?: Criteria, page?: Page): Promise<FindResult> {
  return client.request<FindResult>("find", { ...where(criteria), ...paged(page) });
}

/** sort sorts the selected mailbox's messages matching criteria (UID SORT, or the bridge's fallback). */
export function sort(client: Client, keys: SortKey[], criteria?: Criteria, page?: Page): Promise<SortResult> {
  return client.request<SortResult>("sort", { keys: keys.map((k) => (k.reverse === true ? { key: k.key, reverse: true } : { key: k.key })), ...where(criteria), ...paged(page) });
}

/** thread groups the selected mailbox's messages into conversations (UID THREAD, or the bridge's fallback). */
export function thread(client: Client, o: ThreadOptions = {}): Promise<ThreadResult> {
  return client.request<ThreadResult>("thread", {
    ...(o.algorithm !== undefined ? { algorithm: o.algorithm } : {}), ...where(o.where),
    ...(o.reverse === true ? { reverse: true } : {}), ...paged(o),
  });
}

/** threadUids lists a thread's UIDs, parents before replies (uid 0 placeholders skipped). */
export function threadUids(n: ThreadNode, out: number[] = []): number[] {
  if (n.uid !== 0) out.push(n.uid);
  for (const c of n.children ?? []) threadUids(c, out);
  return out;
}

/** WatchResult answers watch: how (NOTIFY push, or polling every intervalMs) and the status now. */
export interface WatchResult { readonly mode: "notify" | "poll"; readonly intervalMs?: number; readonly mailboxes: readonly StatusResult[] }

/** StatusListener hears each mailbox whose status changed (and every mailbox after a refresh). */
export type StatusListener = (mailbox: string, status: StatusValues, watch: StatusWatch) => void;

/** WatchStatusOptions: the mailboxes (default: every subscribed one) and a change listener. */
export interface WatchStatusOptions { mailboxes?: string[]; onChange?: StatusListener }

/**
 * StatusWatch keeps the status (messages, unseen, uidNext, ...) of a set of
 * mailboxes current: status events update it (the bridge reports the
 * selected mailbox too, after its own events); a sequence gap or a
 * reconnect re-runs watch (a full refresh).
 */
export class StatusWatch {
  /** status maps each watched mailbox to its last known values. */
  readonly status = new Map<string, StatusValues>();
  /** mode is how the bridge watches (undefined until the first answer). */
  mode: WatchResult["mode"] | undefined;
  private readonly offs: (() => void)[] = [];
  private readonly listeners = new Set<StatusListener>();
  private closed = false;
  private busy = false;

  constructor(private readonly client: Client, private readonly mailboxes: string[] | undefined) {
    this.offs.push(
      client.on("status", (e) => this.set(e.mailbox, e.status)),
      client.on("gap", () => void this.refresh().catch(() => undefined)),
      // A reconnect is a new bridge session: watch again (unless the first watch is still on its way).
      client.on("connection", (e) => { if (e.state === "open" && !this.busy) void this.refresh().catch(() => undefined); }),
    );
  }

  /** unseen is the mailbox's unseen count (0 when unknown); total sums every watched mailbox. */
  unseen(mailbox?: string): number {
    if (mailbox !== undefined) return this.status.get(mailbox)?.unseen ?? 0;
    let n = 0;
    for (const v of this.status.values()) n += v.unseen ?? 0;
    return n;
  }

  /** on adds a change listener and returns its remover. */
  on(l: StatusListener): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }

  /** refresh (re)starts the watch and replaces every value with the bridge's answer. */
  async refresh(): Promise<WatchResult> {
    this.busy = true;
    let r: WatchResult;
    try {
      r = await this.client.request<WatchResult>("watch", this.mailboxes === undefined ? {} : { mailboxes: this.mailboxes });
    } finally {
      this.busy = false;
    }
    if (this.closed) return r;
    this.mode = r.mode;
    for (const m of r.mailboxes) {
      const { mailbox, ...v } = m;
      this.set(mailbox, v, true);
    }
    return r;
  }

  /** close stops listening and ends the bridge's watch. */
  close(): Promise<unknown> {
    this.closed = true;
    for (const off of this.offs) off();
    return this.client.request("unwatch", {}).catch(() => undefined);
  }

  private set(mailbox: string, v: StatusValues, always = false): void {
    if (this.closed || (this.mailboxes !== undefined && !this.mailboxes.includes(mailbox))) return;
    const prev = this.status.get(mailbox);
    const next = { ...prev, ...v };
    this.status.set(mailbox, next);
    if (always || prev === undefined || JSON.stringify(prev) !== JSON.stringify(next)) {
      for (const l of this.listeners) l(mailbox, next, this);
    }
  }

}

/**
 * watchStatus watches the status of mailboxes (default: every subscribed
 * one) — NOTIFY push when the server offers it, else bridge polling — and
 * resolves once the first values are in.
 */
export async function watchStatus(client: Client, o: WatchStatusOptions = {}): Promise<StatusWatch> {
  const w = new StatusWatch(client, o.mailboxes);
  if (o.onChange !== undefined) w.on(o.onChange);
  await w.refresh();
  return w;
}
