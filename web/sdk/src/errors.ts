/**
 * Error classes of the SDK. Every error the SDK produces is an
 * {@link ImapBridgeError}; the subclasses say what went wrong and each has a
 * type guard that works across bundles (it checks a brand, not the prototype).
 * No message ever contains the bearer token or a password.
 */

const brand = Symbol.for("imapbridge.error");

/** Kinds of {@link ImapBridgeError}, one per subclass. */
export type ErrorKind = "config" | "auth" | "connection" | "protocol" | "timeout" | "closed" | "queue_full" | "server";

/**
 * FailureReason says why the connection is not open (docs/embedding.md lists
 * what each means and what the user can do):
 * - session_limit: the user already has the bridge's maximum of sessions (4429); retried slowly.
 * - token_refused: the bridge refused the token, also a fresh one (4401, 1008 claims); state auth_required.
 * - token_expired: the session reached the token's expiry (4401 "token expired"); a new token is asked for.
 * - token_unavailable: the token provider threw (its message is in detail); retried with backoff.
 * - password_refused: the IMAP server refused the password (password mode); state auth_required.
 * - origin_refused: this page's origin is not on the bridge's allow-list; state failed, no retry.
 * - upstream_down: the IMAP server is unreachable or dropped the connection (4503); retried with backoff.
 * - bridge_down: the bridge cannot be reached; retried with backoff.
 * - bridge_draining: the bridge is restarting or shutting down (1012, 1001, 503); retried after its delay.
 * - bridge_busy: the bridge's session cap or handshake rate limit (1013, 503, 429); retried with backoff.
 * - connection_lost: an open connection broke (network, heartbeat, 1011, policy close); retried with backoff.
 */
export type FailureReason =
  | "session_limit" | "token_refused" | "token_expired" | "token_unavailable" | "password_refused" | "origin_refused"
  | "upstream_down" | "bridge_down" | "bridge_draining" | "bridge_busy" | "connection_lost";

/** ImapBridgeError is the base class of every error thrown or emitted by the SDK. */
export class ImapBridgeError extends Error {
  /** kind names the subclass ("auth", "timeout", ...); "config" for a bad option. */
  readonly kind: ErrorKind;
  /** [brand] marks SDK errors for the type guards. */
  readonly [brand] = true;

  /** Creates an error; message gets the "imapbridge: " prefix. */
  constructor(kind: ErrorKind, message: string, options?: { cause?: unknown }) {
    super("imapbridge: " + message, options);
    this.kind = kind;
    this.name = new.target.name;
  }
}

/**
 * ConnectionError says why the connection is not open: {@link FailureReason}
 * in reason, the close code and the bridge's close reason (or the token
 * provider's message) in detail. It comes with every "reconnecting",
 * "auth_required" and "failed" connection event.
 */
export class ConnectionError extends ImapBridgeError {
  /** reason is the typed cause. */
  readonly reason: FailureReason;
  /** closeCode is the WebSocket close code that caused it, if any. */
  readonly closeCode: number | undefined;
  /** detail is the bridge's close reason or the token provider's error message ("" if none). */
  readonly detail: string;
  /** Creates a ConnectionError (kind "connection", or "auth" for AuthError); the message is "reason: detail (close code)". */
  constructor(reason: FailureReason, detail = "", closeCode?: number, kind: ErrorKind = "connection") {
    super(kind, reason + (detail === "" ? "" : ": " + detail) + (closeCode === undefined ? "" : ` (close ${closeCode})`));
    this.reason = reason;
    this.closeCode = closeCode;
    this.detail = detail;
  }
}

/** AuthError: the bridge refused the token (close 4401/1008) or the IMAP password, and retrying cannot help without a new one. */
export class AuthError extends ConnectionError {
  /** Creates an AuthError (reason token_refused unless given). */
  constructor(detail: string, closeCode?: number, reason: FailureReason = "token_refused") {
    super(reason, detail, closeCode, "auth");
  }
}

/** ProtocolError: the bridge sent something the SDK cannot use (bad JSON, oversized or binary frame, gap). */
export class ProtocolError extends ImapBridgeError {
  /** Creates a ProtocolError. */
  constructor(message: string, options?: { cause?: unknown }) {
    super("protocol", message, options);
  }
}

/** TimeoutError: a request got no answer within requestTimeoutMs. A late answer is ignored. */
export class TimeoutError extends ImapBridgeError {
  /** op is the request's operation. */
  readonly op: string;
  /** Creates a TimeoutError. */
  constructor(op: string, ms: number) {
    super("timeout", `${op} timed out after ${ms} ms`);
    this.op = op;
  }
}

/**
 * ClosedError: the connection closed before the request was answered (its
 * outcome is unknown), or the client was closed.
 */
export class ClosedError extends ImapBridgeError {
  /** closeCode is the WebSocket close code, if the socket reported one. */
  readonly closeCode: number | undefined;
  /** Creates a ClosedError. */
  constructor(message: string, closeCode?: number) {
    super("closed", message);
    this.closeCode = closeCode;
  }
}

/** QueueFullError: the bounded send queue (offline or back-pressured) is full. */
export class QueueFullError extends ImapBridgeError {
  /** Creates a QueueFullError. */
  constructor(limit: number) {
    super("queue_full", `send queue full (${limit} requests or bytes limit reached)`);
  }
}

/** ImapStatus is the IMAP server's answer behind a ServerError (NO/BAD, optional response code). */
export interface ImapStatus {
  /** type is "NO" or "BAD" (or "OK"/"BYE"). */
  readonly type: string;
  /** code is the bracketed response code ("TRYCREATE"), if any. */
  readonly code?: string;
  /** text is the human-readable text. */
  readonly text: string;
}

/** ServerErrorCode lists the bridge's error codes (docs/protocol.md §4); unknown ones pass through. */
export type ServerErrorCode =
  | "auth" | "forbidden" | "not_found" | "bad_request" | "imap_no" | "imap_bad"
  | "abort" | "timeout" | "limit" | "unavailable" | "imaplib" | (string & {});

/** ImaplibException names the exception CPython's imaplib would have raised for a relayed call (code "imaplib"). */
export interface ImaplibException {
  /** exception is "error" (IMAP4.error), "abort" (IMAP4.abort) or "readonly" (IMAP4.readonly). */
  readonly exception: "error" | "abort" | "readonly" | (string & {});
  /** message is imaplib's text, str(exc), e.g. "command FETCH illegal in state AUTH, only allowed in states SELECTED". */
  readonly message: string;
}

/** ServerError: the bridge answered a request with an error frame. */
export class ServerError extends ImapBridgeError {
  /** code is the bridge's error code ("imap_no", "forbidden", ...). */
  readonly code: ServerErrorCode;
  /** imap is the IMAP server's answer, when one caused the error. */
  readonly imap: ImapStatus | undefined;
  /** imaplib is set (code "imaplib") when an imaplib relay call raised one of imaplib's exceptions. */
  readonly imaplib: ImaplibException | undefined;
  /** Creates a ServerError. */
  constructor(code: string, message: string, imap?: ImapStatus, imaplib?: ImaplibException) {
    super("server", `${code}: ${imaplib !== undefined ? `IMAP4.${imaplib.exception}: ${imaplib.message}` : message}`);
    this.code = code;
    this.imap = imap;
    this.imaplib = imaplib;
  }
}

function hasKind(e: unknown, kind?: ErrorKind): boolean {
  if (typeof e !== "object" || e === null || (e as Record<symbol, unknown>)[brand] !== true) return false;
  return kind === undefined || (e as ImapBridgeError).kind === kind;
}

/** isImapBridgeError reports whether e is any SDK error. */
export const isImapBridgeError = (e: unknown): e is ImapBridgeError => hasKind(e);
/** isAuthError reports whether e is an {@link AuthError}. */
export const isAuthError = (e: unknown): e is AuthError => hasKind(e, "auth");
/** isConnectionError reports whether e is a {@link ConnectionError} (an AuthError is one too). */
export const isConnectionError = (e: unknown): e is ConnectionError => hasKind(e, "connection") || hasKind(e, "auth");
/** isProtocolError reports whether e is a {@link ProtocolError}. */
export const isProtocolError = (e: unknown): e is ProtocolError => hasKind(e, "protocol");
/** isTimeoutError reports whether e is a {@link TimeoutError}. */
export const isTimeoutError = (e: unknown): e is TimeoutError => hasKind(e, "timeout");
/** isClosedError reports whether e is a {@link ClosedError}. */
export const isClosedError = (e: unknown): e is ClosedError => hasKind(e, "closed");
/** isQueueFullError reports whether e is a {@link QueueFullError}. */
export const isQueueFullError = (e: unknown): e is QueueFullError => hasKind(e, "queue_full");
/** isServerError reports whether e is a {@link ServerError}. */
export const isServerError = (e: unknown): e is ServerError => hasKind(e, "server");
