/** Options of {@link connect}, their defaults, and the connection-state types. */
import type { ConnectionError, FailureReason, ImapBridgeError } from "./errors.js";
import type { BackoffOptions } from "./backoff.js";
import type { Timers, WebSocketConstructor } from "./transport.js";

/** DEFAULT_REQUEST_TIMEOUT_MS bounds each request (60 s, the bridge's own command timeout). */
export const DEFAULT_REQUEST_TIMEOUT_MS = 60_000;
/** DEFAULT_HEARTBEAT_TIMEOUT_MS: no frame for this long means a dead socket (2 × the bridge's 25 s ping). */
export const DEFAULT_HEARTBEAT_TIMEOUT_MS = 50_000;
/** DEFAULT_SEND_QUEUE_LIMIT bounds requests waiting to be sent (offline, back-pressure, in-flight cap). */
export const DEFAULT_SEND_QUEUE_LIMIT = 1000;
/** SEND_QUEUE_MAX_BYTES bounds the bytes waiting in the send queue (8 MiB). */
export const SEND_QUEUE_MAX_BYTES = 8 * 1024 * 1024;
/** MAX_BUFFERED_BYTES: while the socket's bufferedAmount is above this, requests wait in the queue. */
export const MAX_BUFFERED_BYTES = 1024 * 1024;
/** DEFAULT_MAX_IN_FLIGHT is used until hello announces the bridge's in-flight limit. */
export const DEFAULT_MAX_IN_FLIGHT = 8;

/** TokenProvider returns a bearer token; it is called on every (re)connect. */
export type TokenProvider = () => string | Promise<string>;

/**
 * ConnectionState is the client's connection state: "auth_required" waits
 * for reconnect() with a new token or password; "failed" (origin refused)
 * waits for reconnect() once the bridge's configuration is fixed.
 */
export type ConnectionState = "connecting" | "open" | "reconnecting" | "auth_required" | "failed" | "closed";

/** ConnectionEvent reports a connection-state change. */
export interface ConnectionEvent {
  /** state is the new state. */
  readonly state: ConnectionState;
  /** closeCode is the close code of the socket that just closed, if any. */
  readonly closeCode?: number;
  /** delayMs is the wait before the next attempt (state "reconnecting"). */
  readonly delayMs?: number;
  /** attempt counts reconnect attempts since the last stable connection. */
  readonly attempt?: number;
  /** reason says why the connection is not open (every "reconnecting", "auth_required" and "failed" event after a failure). */
  readonly reason?: FailureReason;
  /** error explains a failure: a {@link ConnectionError} (an AuthError for "auth_required"). */
  readonly error?: ConnectionError | ImapBridgeError;
}

/** ConnectOptions configures {@link connect}. Only url and token are required. */
export interface ConnectOptions {
  /** url is the bridge's WebSocket URL (wss://host/ws). ws:// only to localhost unless allowInsecure. */
  url: string;
  /** token is the bearer token, or a provider called on every (re)connect. Sent as a subprotocol, never in the URL. */
  token: string | TokenProvider;
  /** WebSocket is the WebSocket constructor (default globalThis.WebSocket; pass `ws` in Node). */
  WebSocket?: WebSocketConstructor;
  /** timers is the clock (default real timers); inject fake timers in tests. */
  timers?: Timers;
  /** requestTimeoutMs bounds each request (default {@link DEFAULT_REQUEST_TIMEOUT_MS}). */
  requestTimeoutMs?: number;
  /** backoff tunes reconnect delays (full jitter, base 0.5 s, cap 30 s). */
  backoff?: BackoffOptions;
  /** heartbeatTimeoutMs: no frame for this long ⇒ dead socket, reconnect (default {@link DEFAULT_HEARTBEAT_TIMEOUT_MS}); a noop is sent after half of it. */
  heartbeatTimeoutMs?: number;
  /** sendQueueLimit bounds queued requests (default {@link DEFAULT_SEND_QUEUE_LIMIT}); beyond it requests fail with QueueFullError. */
  sendQueueLimit?: number;
  /** allowInsecure permits ws:// to a non-loopback host. Development only: the token would travel in clear. */
  allowInsecure?: boolean;
  /** password is the IMAP password for the bridge's password mode; sent in a login request after every hello. */
  password?: string;
  /** login returns the IMAP password (password mode); called after every hello, instead of password. */
  login?: () => string | Promise<string>;
  /** onError receives errors not tied to a request (malformed frames, handler exceptions, resync failures). */
  onError?: (error: unknown) => void;
}
