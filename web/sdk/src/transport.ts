/**
 * Transport: the WebSocket seam (injectable constructor), the timer seam
 * (injectable clock for tests) and URL policy.
 */
import { ImapBridgeError, type FailureReason } from "./errors.js";
import { BEARER_PREFIX, SUBPROTOCOL } from "./protocol.js";

/** WebSocketLike is the part of the WHATWG WebSocket the SDK uses (browser, `ws`, or a fake). */
export interface WebSocketLike {
  readonly readyState: number;
  readonly bufferedAmount: number;
  readonly protocol: string;
  onopen: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onclose: ((ev: { code: number; reason: string }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}

/** WebSocketConstructor builds a WebSocketLike; the SDK passes the URL and its subprotocols. */
export type WebSocketConstructor = new (url: string, protocols: string[]) => WebSocketLike;

/** Timers is the clock the SDK runs on; inject fake timers in tests. */
export interface Timers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
  now(): number;
}

/** WS_OPEN is WebSocket.OPEN. */
export const WS_OPEN = 1;

/** realTimers uses the global timers and Date.now. */
export const realTimers: Timers = {
  setTimeout: (fn, ms) => globalThis.setTimeout(fn, ms),
  clearTimeout: (h) => globalThis.clearTimeout(h as ReturnType<typeof globalThis.setTimeout>),
  now: () => Date.now(),
};

const LOOPBACK = /^(localhost|127(\.\d{1,3}){3}|\[::1\])$/i;
const SECRET_PARAMS = /^(token|access_token|jwt|bearer|password)$/i;

/**
 * checkUrl refuses URLs the SDK must not use: not ws/wss, ws:// to a
 * non-loopback host without allowInsecure, credentials or a token in the URL.
 */
export function checkUrl(raw: string, allowInsecure: boolean): string {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new ImapBridgeError("config", "url is not an absolute URL");
  }
  if (u.protocol !== "wss:" && u.protocol !== "ws:") throw new ImapBridgeError("config", "url must be ws:// or wss://");
  if (u.protocol === "ws:" && !allowInsecure && !LOOPBACK.test(u.hostname))
    throw new ImapBridgeError("config", "ws:// is refused except on localhost; use wss:// or allowInsecure");
  if (u.username !== "" || u.password !== "") throw new ImapBridgeError("config", "url must not carry credentials");
  for (const k of u.searchParams.keys())
    if (SECRET_PARAMS.test(k)) throw new ImapBridgeError("config", "url must not carry a token; pass it as the token option");
  return u.href;
}

/** subprotocols returns the offered subprotocols, the token as "bearer.<token>". */
export function subprotocols(token: string): string[] {
  return [SUBPROTOCOL, BEARER_PREFIX + token];
}

/** defaultWebSocket returns the global WebSocket constructor, if the platform has one. */
export function defaultWebSocket(): WebSocketConstructor | undefined {
  return (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
}

/** PROBE_TIMEOUT_MS bounds each request of {@link probe}. */
export const PROBE_TIMEOUT_MS = 5000;

/**
 * probe tells why a WebSocket closed before it opened (the browser hides the
 * HTTP answer): it asks the bridge's /readyz beside the WebSocket path, which
 * answers CORS for the allowed origins only (docs/protocol.md §7). Readable
 * 503: draining; readable otherwise: busy (cap or rate limit); unreadable but
 * reachable: origin refused; unreachable: down.
 */
export async function probe(wsUrl: string): Promise<FailureReason> {
  const f = globalThis.fetch;
  if (typeof f !== "function") return "bridge_down";
  const u = new URL("readyz", wsUrl.replace(/^ws/, "http"));
  const get = (mode: RequestMode) => {
    const o: RequestInit = { mode, cache: "no-store", credentials: "omit" };
    if (typeof AbortSignal.timeout === "function") o.signal = AbortSignal.timeout(PROBE_TIMEOUT_MS);
    return f(u.href, o);
  };
  const cors = () => get("cors").then((r) => (r.status === 503 ? "bridge_draining" : "bridge_busy"), () => "" as const);
  // Reached without CORS but not with it: the origin is refused — unless the
  // bridge came back between the two, so CORS is asked once more (a final
  // origin_refused on a restart race left clients down for good in the storm).
  return (await cors()) || get("no-cors").then(async () => (await cors()) || "origin_refused", () => "bridge_down");
}
