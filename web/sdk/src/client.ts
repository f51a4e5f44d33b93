/**
 * Client: one logical session with the bridge across any number of sockets —
 * request correlation, send queue, heartbeat, close-code policy, reconnect
 * with backoff, and restore of the selected mailbox.
 */
import { Backoff } from "./backoff.js";
import {
  AuthError, ClosedError, ConnectionError, ImapBridgeError, ProtocolError, QueueFullError, ServerError, TimeoutError,
  type FailureReason,
} from "./errors.js";
import { Emitter } from "./events.js";
import { MailboxView, type WatchOptions } from "./mailbox.js";
import {
  DEFAULT_HEARTBEAT_TIMEOUT_MS, DEFAULT_MAX_IN_FLIGHT, DEFAULT_REQUEST_TIMEOUT_MS, DEFAULT_SEND_QUEUE_LIMIT,
  MAX_BUFFERED_BYTES, SEND_QUEUE_MAX_BYTES,
  type ConnectOptions, type ConnectionEvent, type ConnectionState, type TokenProvider,
} from "./options.js";
import {
  buildRequest, parseFrame, toBase64,
  type AppendResult, type BodyRequest, type CopyResult, type EmptyResult, type ErrorFrame, type EventFrame,
  type FetchItem, type FetchResult, type HelloFrame, type ImaplibResult, type ListResult, type Op, type Qresync,
  type SearchResult, type SelectResult, type ServerEvent, type StatusItem, type StatusResult, type StoreResult,
} from "./protocol.js";
import { checkUrl, defaultWebSocket, probe, realTimers, subprotocols, WS_OPEN, type Timers, type WebSocketLike } from "./transport.js";

/** ClientEvents maps each event name of {@link Client.on} to its payload. */
export interface ClientEvents {
  exists: Extract<ServerEvent, { event: "exists" }>;
  expunge: Extract<ServerEvent, { event: "expunge" }>;
  flags: Extract<ServerEvent, { event: "flags" }>;
  vanished: Extract<ServerEvent, { event: "vanished" }>;
  recent: Extract<ServerEvent, { event: "recent" }>;
  mailbox_reset: Extract<ServerEvent, { event: "mailbox_reset" }>;
  alert: Extract<ServerEvent, { event: "alert" }>;
  bye: Extract<ServerEvent, { event: "bye" }>;
  state: Extract<ServerEvent, { event: "state" }>;
  /** status is a watched mailbox's new status (@imapbridge/sdk/find watchStatus). */
  status: Extract<ServerEvent, { event: "status" }>;
  /** connection reports connection-state changes. */
  connection: ConnectionEvent;
  /** hello is each connection's hello frame. */
  hello: HelloFrame;
  /** gap reports a lost event (seq jumped); a resync follows. */
  gap: { readonly expected: number; readonly got: number };
}

const EVENT_KINDS = new Set(["exists", "expunge", "flags", "vanished", "recent", "mailbox_reset", "alert", "bye", "state", "status"]);
/** CLOSE_HEARTBEAT is the code the client closes a silent socket with. */
export const CLOSE_HEARTBEAT = 4000;
/** CLOSE_HANDOVER: a shared connection changed hands (@imapbridge/sdk/shared); reconnect at once. */
export const CLOSE_HANDOVER = 4001;
/** 1008 reasons that are the client's or the network's doing, not the token's: reconnect with backoff. */
const POLICY_RETRY = /^(rate limit|too slow|ping timeout|authentication (deadline|required)|binary)/;
/** Simple close codes and their reasons (docs/protocol.md §7); the rest is decided in onClose. */
const CLOSE_REASONS: { readonly [code: number]: FailureReason } = {
  1001: "bridge_draining", 1012: "bridge_draining", 1013: "bridge_busy", 4429: "session_limit", 4503: "upstream_down",
};
const RETRY_AFTER = /retry-after-ms=(\d{1,9})/;

/** SelectOptions are select's optional members. */
export interface SelectOptions { readOnly?: boolean; condstore?: boolean; qresync?: Qresync }
/** ListOptions are list's members. */
export interface ListOptions { ref?: string; pattern?: string; specialUse?: boolean; status?: StatusItem[]; subscribed?: boolean }
/** FetchTarget names the messages to fetch: a UID set or a sequence set. */
export type FetchTarget = { uids: string } | { seqs: string };
/** FetchOptions are fetch's members besides the target. */
export interface FetchOptions { items?: FetchItem[]; body?: BodyRequest[]; changedSince?: number; vanished?: boolean }
/** StoreOptions are store's optional members. */
export interface StoreOptions { silent?: boolean; unchangedSince?: number }
/** AppendOptions are append's optional members. */
export interface AppendOptions { flags?: string[]; date?: string | Date }
/**
 * ImaplibArg is one positional imaplib argument: a string, None (null) or bytes; a boolean or an integer where the
 * imaplib method takes a bool or an int (select's readonly, partial's numbers, append's date_time in epoch seconds).
 */
export type ImaplibArg = string | null | Uint8Array | boolean | number;
/** RequestOptions tune one request. */
export interface RequestOptions {
  /** priority sends before queued requests, also while the connection is being restored (for resync). */
  priority?: boolean;
}

interface Pending {
  readonly id: string;
  readonly op: Op;
  readonly frame: string;
  readonly resolve: (v: unknown) => void;
  readonly reject: (e: unknown) => void;
  timer: unknown;
}

type Phase = "down" | "opening" | "open";

/**
 * Client is a connection to the bridge that survives socket loss. Create it
 * with {@link connect}. Requests made while offline wait in a bounded queue;
 * requests in flight when a socket dies reject with ClosedError (their outcome
 * is unknown, so they are never replayed).
 */
export class Client {
  private readonly o: ConnectOptions;
  private readonly url: string;
  private readonly timers: Timers;
  private readonly backoff: Backoff;
  private readonly emitter: Emitter<ClientEvents>;
  private readonly requestTimeoutMs: number;
  private readonly heartbeatMs: number;
  private readonly queueLimit: number;
  private tokenSource: string | TokenProvider;
  private ws: WebSocketLike | undefined;
  private gen = 0;
  private phase: Phase = "down";
  private st: ConnectionState = "connecting";
  private readonly inFlight = new Map<string, Pending>();
  private prio: Pending[] = [];
  private queue: Pending[] = [];
  private queueBytes = 0;
  private ids = 0;
  private lastSeq = 0;
  private lastToken: string | undefined;
  private needNewToken = false;
  private refusals = 0;
  private opened = false;
  private why: unknown;
  private closing = false;
  private helloFrame: HelloFrame | undefined;
  private caps: ReadonlySet<string> = new Set();
  private timer: unknown;
  private deadTimer: unknown;
  private noopTimer: unknown;
  private stableTimer: unknown;
  private selected: { mailbox: string; readOnly: boolean } | undefined;
  private view: MailboxView | undefined;

  /** Creates the client and starts connecting; see {@link connect}. */
  constructor(options: ConnectOptions) {
    this.o = options;
    this.url = checkUrl(options.url, options.allowInsecure === true);
    this.timers = options.timers ?? realTimers;
    this.backoff = new Backoff(options.backoff);
    this.emitter = new Emitter((e) => this.report(e));
    this.requestTimeoutMs = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    this.heartbeatMs = options.heartbeatTimeoutMs ?? DEFAULT_HEARTBEAT_TIMEOUT_MS;
    this.queueLimit = options.sendQueueLimit ?? DEFAULT_SEND_QUEUE_LIMIT;
    this.tokenSource = options.token;
    if ((options.WebSocket ?? defaultWebSocket()) === undefined)
      throw new ImapBridgeError("config", "no WebSocket constructor: pass the WebSocket option");
    void this.dial();
  }

  /** state is the connection state. */
  get state(): ConnectionState {
    return this.st;
  }

  /** hello is the current connection's hello frame, if one arrived. */
  get hello(): HelloFrame | undefined {
    return this.helloFrame;
  }

  /** capabilities are the IMAP server's capabilities (refreshed after login in password mode). */
  get capabilities(): ReadonlySet<string> {
    return this.caps;
  }

  /** on subscribes to an event and returns the unsubscribe function. */
  on<K extends keyof ClientEvents>(kind: K, handler: (payload: ClientEvents[K]) => void): () => void {
    return this.emitter.on(kind, handler);
  }

  /** ready resolves once the client is open, or rejects if it closes, fails or needs a new token first. */
  ready(): Promise<void> {
    if (this.st === "open") return Promise.resolve();
    if (this.st === "closed") return Promise.reject(new ClosedError("client is closed"));
    if (this.st === "failed" || this.st === "auth_required") return Promise.reject(this.why);
    return new Promise((resolve, reject) => {
      const off = this.on("connection", (ev) => {
        if (ev.state === "open") resolve();
        else if (ev.state === "closed" || ev.state === "auth_required" || ev.state === "failed")
          reject(ev.error ?? new ClosedError(`connection ${ev.state}`));
        else return;
        off();
      });
    });
  }

  /**
   * reconnect starts a new connection attempt now (after "auth_required" or
   * "failed", or to skip a backoff wait), optionally with a new token or provider.
   */
  reconnect(token?: string | TokenProvider): void {
    if (this.closing) return;
    if (token !== undefined) this.tokenSource = token;
    this.needNewToken = false;
    this.refusals = 0;
    this.timers.clearTimeout(this.timer);
    this.dropSocket();
    void this.dial();
  }

  /** close ends the session at once: the socket closes and every pending request rejects with ClosedError. */
  close(): void {
    if (this.closing) return;
    this.closing = true;
    this.finish(new ClosedError("client closed"), undefined);
  }

  /** watch selects mailbox and keeps a UID-keyed cache of it in step across reconnects; see {@link MailboxView}. */
  watch(mailbox: string, options: WatchOptions = {}): MailboxView {
    this.view?.close();
    const v = new MailboxView(this, mailbox, options, (e) => this.report(e));
    this.view = v;
    if (this.phase === "open") void v.resync();
    return v;
  }

  /** @internal detach is called by MailboxView.close. */
  detach(v: MailboxView): void {
    if (this.view === v) this.view = undefined;
  }

  // ---- typed operations (docs/protocol.md §3) ----

  /** login sends the IMAP password (password mode); normally done by the client from the password option. */
  login(password: string, o?: RequestOptions): Promise<EmptyResult> {
    return this.request("login", { password }, o);
  }
  /** select opens a mailbox (EXAMINE with readOnly); it is re-selected after every reconnect. */
  async select(mailbox: string, opts: SelectOptions = {}, o?: RequestOptions): Promise<SelectResult> {
    const r = await this.request<SelectResult>("select", { mailbox, ...opts }, o);
    this.selected = { mailbox, readOnly: opts.readOnly === true };
    return r;
  }
  /** list lists mailboxes (pattern "*" by default), optionally with status items. */
  list(opts: ListOptions = {}, o?: RequestOptions): Promise<ListResult> {
    return this.request("list", { ...opts }, o);
  }
  /** status asks for a mailbox's STATUS items. */
  status(mailbox: string, items?: StatusItem[], o?: RequestOptions): Promise<StatusResult> {
    return this.request("status", { mailbox, items }, o);
  }
  /** fetch fetches items and body sections of messages of the selected mailbox. */
  fetch(target: FetchTarget, opts: FetchOptions, o?: RequestOptions): Promise<FetchResult> {
    return this.request("fetch", { ...target, ...opts }, o);
  }
  /** search runs UID SEARCH; empty criteria mean ALL. */
  search(criteria: string[] = [], o?: RequestOptions): Promise<SearchResult> {
    return this.request("search", { criteria: criteria.length > 0 ? criteria : undefined }, o);
  }
  /** store adds, removes or sets flags of messages by UID. */
  store(uids: string, mode: "add" | "remove" | "set", flags: string[], opts: StoreOptions = {}, o?: RequestOptions): Promise<StoreResult> {
    return this.request("store", { uids, mode, flags, ...opts }, o);
  }
  /** copy copies messages by UID to another mailbox. */
  copy(uids: string, to: string, o?: RequestOptions): Promise<CopyResult> {
    return this.request("copy", { uids, to }, o);
  }
  /** move moves messages by UID to another mailbox. */
  move(uids: string, to: string, o?: RequestOptions): Promise<CopyResult> {
    return this.request("move", { uids, to }, o);
  }
  /** expunge permanently removes exactly the messages with these UIDs (UID EXPUNGE). */
  expunge(uids: string, o?: RequestOptions): Promise<EmptyResult> {
    return this.request("expunge", { uids }, o);
  }
  /** append stores a message (bytes or text) in a mailbox. */
  append(mailbox: string, message: Uint8Array | string, opts: AppendOptions = {}, o?: RequestOptions): Promise<AppendResult> {
    const date = opts.date instanceof Date ? opts.date.toISOString().replace(/\.000Z$/, "Z") : opts.date;
    return this.request("append", { mailbox, flags: opts.flags, date, message: { base64: toBase64(message) } }, o);
  }
  /** create creates a mailbox. */
  create(mailbox: string, o?: RequestOptions): Promise<EmptyResult> {
    return this.request("create", { mailbox }, o);
  }
  /** delete deletes a mailbox. */
  delete(mailbox: string, o?: RequestOptions): Promise<EmptyResult> {
    return this.request("delete", { mailbox }, o);
  }
  /** rename renames a mailbox. */
  rename(mailbox: string, to: string, o?: RequestOptions): Promise<EmptyResult> {
    return this.request("rename", { mailbox, to }, o);
  }
  /** subscribe subscribes to a mailbox. */
  subscribe(mailbox: string, o?: RequestOptions): Promise<EmptyResult> {
    return this.request("subscribe", { mailbox }, o);
  }
  /** unsubscribe unsubscribes from a mailbox. */
  unsubscribe(mailbox: string, o?: RequestOptions): Promise<EmptyResult> {
    return this.request("unsubscribe", { mailbox }, o);
  }
  /** noop sends NOOP, which flushes pending events. */
  noop(o?: RequestOptions): Promise<EmptyResult> {
    return this.request("noop", {}, o);
  }
  /** logout logs out of IMAP; the bridge then closes with 1000 and the client is closed for good. */
  logout(o?: RequestOptions): Promise<EmptyResult> {
    this.closing = true;
    return this.request("logout", {}, o);
  }
  /**
   * imaplib relays one imaplib method call (allow-listed by the bridge) and returns its (typ, data). Where imaplib
   * would raise (a BAD, an illegal state, a lost connection, a read-only mailbox) it rejects with a ServerError of
   * code "imaplib" whose imaplib member names the exception and carries imaplib's message.
   */
  async imaplib(cmd: string, ...args: ImaplibArg[]): Promise<ImaplibResult> {
    const wire = args.map((a) => (a instanceof Uint8Array ? { base64: toBase64(a) } : a));
    const f = await this.request<{ typ?: string; data?: ImaplibResult["data"] }>("imaplib", { cmd, args: wire.length > 0 ? wire : undefined }, {}, true);
    return { typ: f.typ ?? "", data: f.data ?? [] };
  }

  /**
   * request sends any op with its members (low level; prefer the typed
   * methods) and resolves with the result. It rejects with ServerError,
   * TimeoutError, ClosedError or QueueFullError.
   */
  request<T>(op: Op, params: Readonly<Record<string, unknown>>, o: RequestOptions = {}, whole = false): Promise<T> {
    if (this.st === "closed") return Promise.reject(new ClosedError("client is closed"));
    const q = o.priority === true ? this.prio : this.queue;
    if (o.priority !== true && this.queue.length >= this.queueLimit) return Promise.reject(new QueueFullError(this.queueLimit));
    const id = "r" + (++this.ids).toString(36);
    const frame = JSON.stringify(buildRequest(id, op, params));
    if (o.priority !== true && this.queueBytes + frame.length > SEND_QUEUE_MAX_BYTES) return Promise.reject(new QueueFullError(SEND_QUEUE_MAX_BYTES));
    return new Promise<T>((resolve, reject) => {
      const p: Pending = {
        id, op, frame, reject, timer: undefined,
        resolve: (f) => resolve((whole ? f : (f as { result?: unknown }).result ?? {}) as T),
      };
      p.timer = this.timers.setTimeout(() => {
        this.unqueue(p);
        this.inFlight.delete(id);
        reject(new TimeoutError(op, this.requestTimeoutMs));
        this.drain();
      }, this.requestTimeoutMs);
      q.push(p);
      this.queueBytes += frame.length;
      this.drain();
    });
  }

  // ---- internals ----

  private report(e: unknown): void {
    try {
      this.o.onError?.(e);
    } catch {
      // The app's error handler threw; nothing sensible is left to do with it.
    }
  }

  private setState(state: ConnectionState, extra: Omit<ConnectionEvent, "state"> = {}): void {
    this.st = state;
    this.why = extra.error;
    this.emitter.emit("connection", { state, ...extra });
  }

  private unqueue(p: Pending): void {
    for (const q of [this.prio, this.queue]) {
      const i = q.indexOf(p);
      if (i >= 0) {
        q.splice(i, 1);
        this.queueBytes -= p.frame.length;
      }
    }
  }

  private drain(): void {
    const ws = this.ws;
    const max = this.helloFrame?.limits?.maxInFlight ?? DEFAULT_MAX_IN_FLIGHT;
    while (ws !== undefined && ws.readyState === WS_OPEN && this.phase !== "down" && this.inFlight.size < max && ws.bufferedAmount <= MAX_BUFFERED_BYTES) {
      const q = this.prio.length > 0 ? this.prio : this.phase === "open" ? this.queue : undefined;
      const p = q?.shift();
      if (p === undefined) return;
      this.queueBytes -= p.frame.length;
      this.inFlight.set(p.id, p);
      try {
        ws.send(p.frame);
      } catch (e) {
        this.inFlight.delete(p.id);
        this.timers.clearTimeout(p.timer);
        p.reject(new ClosedError("send failed"));
      }
    }
  }

  private async token(): Promise<string> {
    const src = this.tokenSource;
    return typeof src === "string" ? src : await src();
  }

  private async dial(): Promise<void> {
    const gen = ++this.gen;
    let token: string;
    try {
      token = await this.token();
    } catch (e) {
      if (gen !== this.gen || this.closing) return;
      // A provider that cannot reach a bridge that is down is the bridge's failure, not the token's.
      const why = await probe(this.url);
      if (gen !== this.gen || this.closing) return;
      const err = new ConnectionError(why === "bridge_down" ? why : "token_unavailable", e instanceof Error ? e.message : "token provider failed");
      this.report(err);
      this.retry(undefined, undefined, err);
      return;
    }
    if (gen !== this.gen || this.closing) return;
    if (this.needNewToken && token === this.lastToken) {
      this.setState("auth_required", { reason: "token_refused", error: new AuthError("the bridge refused the token and no new token is available") });
      return;
    }
    this.needNewToken = false;
    this.lastToken = token;
    const WS = this.o.WebSocket ?? defaultWebSocket();
    let ws: WebSocketLike;
    try {
      if (WS === undefined) throw new Error();
      ws = new WS(this.url, subprotocols(token));
    } catch {
      // The platform's message may quote the subprotocol, i.e. the token: never forward it.
      this.report(new ImapBridgeError("config", "WebSocket constructor refused the URL or token"));
      this.retry(undefined, undefined, new ConnectionError("bridge_down", "WebSocket constructor refused the URL or token"));
      return;
    }
    this.ws = ws;
    this.opened = false;
    ws.onopen = () => gen === this.gen && (this.opened = true) && this.alive();
    ws.onmessage = (ev) => gen === this.gen && this.onFrame(ev.data);
    ws.onerror = () => undefined;
    ws.onclose = (ev) => {
      if (gen !== this.gen) return;
      this.dropSocket();
      this.onClose(ev.code, ev.reason);
    };
    this.alive();
  }

  /** alive restarts the heartbeat timers: any frame proves the socket alive. */
  private alive(): void {
    const t = this.timers;
    t.clearTimeout(this.deadTimer);
    t.clearTimeout(this.noopTimer);
    this.deadTimer = t.setTimeout(() => {
      this.report(new ProtocolError(`no frame for ${this.heartbeatMs} ms: socket presumed dead`));
      this.dropSocket(CLOSE_HEARTBEAT);
      this.onClose(CLOSE_HEARTBEAT, "heartbeat timeout");
    }, this.heartbeatMs);
    this.noopTimer = t.setTimeout(() => {
      if (this.phase === "open") this.noop({ priority: true }).catch(() => undefined);
    }, this.heartbeatMs / 2);
  }

  /** dropSocket detaches and closes the current socket, failing what was in flight on it. */
  private dropSocket(code?: number): void {
    const ws = this.ws;
    this.ws = undefined;
    this.gen++;
    this.phase = "down";
    for (const h of [this.deadTimer, this.noopTimer, this.stableTimer]) this.timers.clearTimeout(h);
    if (ws !== undefined) {
      ws.onopen = ws.onmessage = ws.onclose = ws.onerror = null;
      try {
        if (ws.readyState <= WS_OPEN) ws.close(code ?? 1000);
      } catch {
        // Closing a socket that is already gone.
      }
    }
    const lost = [...this.inFlight.values()];
    this.inFlight.clear();
    for (const p of lost) {
      this.timers.clearTimeout(p.timer);
      p.reject(new ClosedError(`connection lost before ${p.op} was answered`, code));
    }
  }

  /** onClose applies the close-code policy of docs/protocol.md §7 and says why in the connection event. */
  private onClose(code: number, reason: string): void {
    if (this.closing || code === 1000) {
      this.finish(new ClosedError("connection closed", code), code);
      return;
    }
    if (code === CLOSE_HANDOVER) return this.retry(code, 0);
    if (code === 4401 || (code === 1008 && !POLICY_RETRY.test(reason))) {
      const expired = code === 4401 && reason === "token expired";
      this.needNewToken = true;
      if (!expired) this.refusals++;
      // A refused token is asked for once more; a fresh one refused too means retrying cannot help.
      const err = new AuthError(reason, code, expired ? "token_expired" : "token_refused");
      if (typeof this.tokenSource === "string" || this.refusals > 1) {
        this.setState("auth_required", { closeCode: code, reason: err.reason, error: err });
        return;
      }
      return this.retry(code, undefined, err);
    }
    if (code === 1009) this.report(new ProtocolError("the bridge refused a frame as too big (1009)"));
    const m = code === 1012 ? RETRY_AFTER.exec(reason) : null;
    const delay = m?.[1] !== undefined ? Math.min(Number(m[1]), this.backoff.capMs) : code === 4429 ? this.backoff.slow() : undefined;
    const known = CLOSE_REASONS[code];
    if (known !== undefined || this.opened || code !== 1006) {
      this.retry(code, delay, new ConnectionError(known ?? "connection_lost", reason, code));
      return;
    }
    // Closed before it opened: the browser hides the HTTP refusal, so ask /readyz why.
    const gen = this.gen;
    void probe(this.url).then((why) => {
      if (gen !== this.gen || this.closing) return;
      const err = new ConnectionError(why, reason, code);
      if (why === "origin_refused") this.setState("failed", { closeCode: code, reason: why, error: err });
      else this.retry(code, undefined, err);
    });
  }

  private retry(code: number | undefined, delay: number | undefined, err?: ConnectionError): void {
    const ms = delay ?? this.backoff.next();
    this.setState("reconnecting", {
      delayMs: ms, attempt: this.backoff.attempt, ...(code !== undefined ? { closeCode: code } : {}),
      ...(err !== undefined ? { reason: err.reason, error: err } : {}),
    });
    this.timers.clearTimeout(this.timer);
    this.timer = this.timers.setTimeout(() => void this.dial(), ms);
  }

  /** finish closes for good: every queued and in-flight request rejects with err. */
  private finish(err: ClosedError, code: number | undefined): void {
    this.closing = true;
    this.timers.clearTimeout(this.timer);
    this.dropSocket(code);
    const queued = [...this.prio, ...this.queue];
    this.prio = [];
    this.queue = [];
    this.queueBytes = 0;
    for (const p of queued) {
      this.timers.clearTimeout(p.timer);
      p.reject(err);
    }
    this.view?.close();
    if (this.st !== "closed") this.setState("closed", code !== undefined ? { closeCode: code } : {});
  }

  private onFrame(data: unknown): void {
    this.alive();
    let f;
    try {
      f = parseFrame(data);
    } catch (e) {
      this.report(e);
      return;
    }
    switch (f.type) {
      case "hello":
        void this.onHello(f);
        return;
      case "response":
      case "error":
        this.onAnswer(f);
        return;
      case "event":
        this.onEvent(f);
    }
  }

  private onAnswer(f: { type: "response" | "error"; id?: string }): void {
    const p = f.id === undefined ? undefined : this.inFlight.get(f.id);
    if (p === undefined) {
      // A late answer to a timed-out request, or an error not tied to one.
      if (f.type === "error") this.report(toServerError(f as ErrorFrame));
      return;
    }
    this.inFlight.delete(p.id);
    this.timers.clearTimeout(p.timer);
    if (f.type === "response") p.resolve(f);
    else p.reject(toServerError(f as ErrorFrame));
    this.drain();
  }

  private onEvent(f: EventFrame): void {
    const expected = this.lastSeq + 1;
    this.lastSeq = f.seq;
    if (f.seq !== expected) {
      this.emitter.emit("gap", { expected, got: f.seq });
      if (this.phase === "open") void this.view?.resync();
    }
    if (EVENT_KINDS.has(f.event)) this.emitter.emit(f.event as keyof ClientEvents, f as never);
  }

  private async onHello(h: HelloFrame): Promise<void> {
    const gen = this.gen;
    this.helloFrame = h;
    this.lastSeq = h.seq;
    this.refusals = 0;
    this.caps = new Set(h.capabilities.map((c) => String(c).toUpperCase()));
    this.phase = "opening";
    this.emitter.emit("hello", h);
    try {
      const pw = this.o.login !== undefined ? await this.o.login() : this.o.password;
      if (pw !== undefined) {
        await this.login(pw, { priority: true });
        const cap = await this.request<ImaplibResult>("imaplib", { cmd: "capability" }, { priority: true }, true);
        const line = (cap.data ?? []).find((d): d is string => typeof d === "string");
        if (line !== undefined) this.caps = new Set(line.toUpperCase().split(" ").filter((c) => c !== ""));
      }
    } catch (e) {
      if (gen !== this.gen) return;
      const err = e instanceof ServerError && e.code === "auth" ? new AuthError("IMAP login refused", undefined, "password_refused") : e;
      this.report(err);
      if (err instanceof AuthError) {
        this.dropSocket(1000);
        this.needNewToken = false;
        this.setState("auth_required", { reason: err.reason, error: err });
      }
      return;
    }
    if (gen !== this.gen) return;
    try {
      if (this.view !== undefined) await this.view.resync();
      else if (this.selected !== undefined)
        await this.select(this.selected.mailbox, { readOnly: this.selected.readOnly }, { priority: true });
    } catch (e) {
      this.report(e);
    }
    if (gen !== this.gen) return;
    this.phase = "open";
    this.stableTimer = this.timers.setTimeout(() => this.backoff.reset(), this.backoff.stableMs);
    this.setState("open");
    this.drain();
  }
}

function toServerError(f: ErrorFrame): ServerError {
  const e = f.error;
  const imap = e.imap === undefined ? undefined
    : { type: String(e.imap.type), text: String(e.imap.text), ...(e.imap.code !== undefined ? { code: String(e.imap.code) } : {}) };
  const imaplib = e.imaplib === undefined ? undefined
    : { exception: String(e.imaplib.exception), message: String(e.imaplib.message) };
  return new ServerError(String(e.code), String(e.message), imap, imaplib);
}
