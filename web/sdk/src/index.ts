/**
 * @imapbridge/sdk — live IMAP mail in a web page through the imapbridge
 * WebSocket bridge. Start with {@link connect}.
 */
import { Client } from "./client.js";
import type { ConnectOptions } from "./options.js";

/**
 * connect creates a {@link Client} and starts connecting at once. It throws
 * ImapBridgeError (kind "config") for a refused URL (ws:// off localhost
 * without allowInsecure, a token in the query) or a missing WebSocket.
 */
export function connect(options: ConnectOptions): Client {
  return new Client(options);
}

export { Client, CLOSE_HANDOVER, CLOSE_HEARTBEAT } from "./client.js";
export type {
  AppendOptions, ClientEvents, FetchOptions, FetchTarget, ImaplibArg, ListOptions, RequestOptions, SelectOptions, StoreOptions,
} from "./client.js";
export { MailboxView, DEFAULT_VIEW_ITEMS, FLAG_BATCH, LOAD_BATCH } from "./mailbox.js";
export type { MailboxChange, MailboxViewEvents, ViewMessage, WatchOptions } from "./mailbox.js";
export * from "./errors.js";
export * from "./options.js";
export { Backoff, BACKOFF_BASE_MS, BACKOFF_CAP_MS, SLOW_RETRY_MS, STABLE_PERIOD_MS } from "./backoff.js";
export type { BackoffOptions } from "./backoff.js";
export { MAX_INBOUND_FRAME_CHARS, SUBPROTOCOL, buildRequest, parseFrame } from "./protocol.js";
export type * from "./protocol.js";
export { MAX_SET_RANGES, compactUids, parseUidSet } from "./uidset.js";
export { PROBE_TIMEOUT_MS } from "./transport.js";
export type { Timers, WebSocketConstructor, WebSocketLike } from "./transport.js";
