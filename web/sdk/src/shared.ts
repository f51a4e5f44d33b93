/**
 * @imapbridge/sdk/shared — one bridge session per browser: every tab of an
 * origin that calls {@link connectShared} shares one WebSocket (and so one
 * IMAP connection) per user. The socket lives in a SharedWorker
 * (dist/shared-worker.js, served from the page's origin); where SharedWorker
 * is missing, the tabs elect a leader with the Web Locks API and talk over a
 * BroadcastChannel, and the leader's tab holds the socket — when it closes,
 * the next tab takes over and every tab reconnects to it at once (views
 * resync, so no change is lost). Without either, each tab connects on its own.
 *
 * The returned {@link Client} is an ordinary one: its API, views, events,
 * failure reasons and token provider work exactly as with connect().
 * `logout()` ends the shared session for every tab (a sign-out).
 */
import { Client } from "./client.js";
import type { HubMessage, TabMessage } from "./hub.js";
import { Registry } from "./hub.js";
import type { ConnectOptions } from "./options.js";
import type { WebSocketConstructor, WebSocketLike } from "./transport.js";

/** SharedOptions are connect's options plus where the worker script is. */
export interface SharedOptions extends Omit<ConnectOptions, "WebSocket"> {
  /**
   * workerUrl is the URL of dist/shared-worker.js on this page's origin
   * (default: beside this module, `new URL("./shared-worker.js", import.meta.url)`).
   * Set it to false to skip the SharedWorker and use the leader election.
   */
  workerUrl?: string | URL | false;
}

/** SharingMode says how a client shares its connection. */
export type SharingMode = "worker" | "leader" | "none";

/** Link carries tab messages to a hub and its answers back. */
interface Link {
  post(m: TabMessage): void;
  listen(tab: string, fn: (m: HubMessage) => void): () => void;
}

const rid = (): string => Math.random().toString(36).slice(2, 10) + Date.now().toString(36).slice(-4);
const PAGE = rid();

/** VirtualSocket is a WebSocketLike whose far end is the hub. */
class VirtualSocket implements WebSocketLike {
  readyState = 0;
  bufferedAmount = 0;
  protocol = "";
  onopen: ((ev: unknown) => void) | null = null;
  onmessage: ((ev: { data: unknown }) => void) | null = null;
  onclose: ((ev: { code: number; reason: string }) => void) | null = null;
  onerror: ((ev: unknown) => void) | null = null;
  private readonly tab = rid();
  private readonly off: () => void;
  /** hub is the name of the hub this socket is on ("" until opened). */
  hub = "";

  constructor(private readonly link: Link, url: string, protocols: string[], private readonly announce: (s: VirtualSocket) => void) {
    this.off = link.listen(this.tab, (m) => this.onHub(m));
    this.msg = { t: "open", tab: this.tab, url, protocols };
    link.post(this.msg);
  }

  /** msg is the open message, re-sent when a new hub appears before this socket opened. */
  readonly msg: TabMessage;

  private onHub(m: HubMessage): void {
    if (m.t === "opened") {
      this.readyState = 1;
      this.hub = m.hub;
      this.protocol = "imapbridge.v1";
      this.announce(this);
      this.onopen?.({});
    } else if (m.t === "frame") this.onmessage?.({ data: m.data });
    else if (m.t === "closed") this.ended(m.code, m.reason);
  }

  /** ended closes this socket locally with code (the hub went away or closed it). */
  ended(code: number, reason: string): void {
    if (this.readyState === 3) return;
    this.readyState = 3;
    this.off();
    this.onclose?.({ code, reason });
  }

  send(data: string): void {
    if (this.readyState === 1) this.link.post({ t: "send", tab: this.tab, data });
  }

  close(): void {
    if (this.readyState === 3) return;
    this.readyState = 3;
    this.off();
    this.link.post({ t: "close", tab: this.tab });
  }
}

/** listeners dispatches hub messages to the virtual socket of their tab. */
function dispatcher(): { listen: Link["listen"]; deliver: (m: HubMessage) => void; hubSeen: (fn: (hub: string) => void) => void } {
  const fns = new Map<string, (m: HubMessage) => void>();
  let onHub: (hub: string) => void = () => undefined;
  return {
    listen(tab, fn) {
      fns.set(tab, fn);
      return () => void fns.delete(tab);
    },
    deliver(m) {
      if (m.t === "hub") onHub(m.hub);
      else fns.get(m.tab)?.(m);
    },
    hubSeen(fn) {
      onHub = fn;
    },
  };
}

let worker: Link | undefined;
let leader: { link: Link; sockets: Set<VirtualSocket> } | undefined;

function workerLink(url: string | URL): Link {
  if (worker !== undefined) return worker;
  const w = new SharedWorker(url, { name: "imapbridge" });
  const d = dispatcher();
  w.port.onmessage = (ev: MessageEvent<HubMessage>) => d.deliver(ev.data);
  w.port.start();
  // The worker learns of this page's end by the lock it can take once the page is gone
  // (told only once this page holds it, or the worker's request could win).
  const lock = "imapbridge-page:" + PAGE;
  void navigator.locks?.request(lock, () => {
    w.port.postMessage({ t: "page", page: PAGE, lock });
    return new Promise<void>(() => undefined);
  });
  const link: Link = { post: (m) => w.port.postMessage(m), listen: d.listen };
  addEventListener("pagehide", () => w.port.postMessage({ t: "bye", page: PAGE }));
  worker = link;
  return link;
}

/** CHANNEL names the BroadcastChannel and the leader lock of the fallback. */
export const CHANNEL = "imapbridge.shared";

function leaderLink(): { link: Link; sockets: Set<VirtualSocket> } {
  if (leader !== undefined) return leader;
  const out = new BroadcastChannel(CHANNEL);
  const d = dispatcher();
  const sockets = new Set<VirtualSocket>();
  out.onmessage = (ev: MessageEvent<HubMessage>) => d.deliver(ev.data);
  d.hubSeen((hub) => {
    for (const s of sockets) {
      if (s.readyState === 3) {
        sockets.delete(s);
        continue;
      }
      // A new hub: sockets on an old one reconnect at once; those still waiting ask again.
      if (s.readyState === 0) out.postMessage(s.msg);
      else if (s.hub !== hub) s.ended(4001, "shared connection handed over");
    }
  });
  const link: Link = { post: (m) => out.postMessage(m), listen: d.listen };
  // Every tab stands for leader; the lock holder runs the hub until its page goes.
  void navigator.locks.request(CHANNEL, () => new Promise<void>((release) => {
    const name = rid();
    const ch = new BroadcastChannel(CHANNEL);
    const reg = new Registry(name, WebSocket);
    ch.onmessage = (ev: MessageEvent<TabMessage | HubMessage>) => {
      const m = ev.data;
      if (m.t === "open" || m.t === "send" || m.t === "close") reg.handle(m, (a) => ch.postMessage(a));
    };
    ch.postMessage({ t: "hub", hub: name });
    addEventListener("pagehide", () => {
      reg.shutdown();
      ch.close();
      release();
    });
  }));
  leader = { link, sockets };
  return leader;
}

/**
 * sharingMode returns how {@link connectShared} would share on this
 * platform: a SharedWorker, a leader tab, or not at all.
 */
export function sharingMode(o: Pick<SharedOptions, "workerUrl"> = {}): SharingMode {
  const g = globalThis as { SharedWorker?: unknown; BroadcastChannel?: unknown; navigator?: { locks?: unknown } };
  if (o.workerUrl !== false && typeof g.SharedWorker === "function") return "worker";
  if (typeof g.BroadcastChannel === "function" && g.navigator?.locks !== undefined && typeof WebSocket === "function") return "leader";
  return "none";
}

/**
 * connectShared is {@link connect} with the connection shared by all tabs of
 * this origin (per bridge URL and user): see the module comment.
 */
export function connectShared(options: SharedOptions): Client & { readonly sharing: SharingMode } {
  const { workerUrl, ...rest } = options;
  const mode = sharingMode(options);
  let WS: WebSocketConstructor | undefined;
  if (mode === "worker") {
    const link = workerLink(workerUrl || new URL("./shared-worker.js", import.meta.url));
    WS = class extends VirtualSocket {
      constructor(url: string, protocols: string[]) {
        super(link, url, protocols, () => undefined);
      }
    };
  } else if (mode === "leader") {
    const l = leaderLink();
    WS = class extends VirtualSocket {
      constructor(url: string, protocols: string[]) {
        super(l.link, url, protocols, (s) => l.sockets.add(s));
        l.sockets.add(this);
      }
    };
  }
  const client = new Client(WS === undefined ? rest : { ...rest, WebSocket: WS });
  return Object.assign(client, { sharing: mode });
}
