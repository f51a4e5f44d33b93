/**
 * Wire types of imapbridge.v1 (docs/protocol.md), shared with the Go side's
 * golden fixtures in bridge/protocol/testdata, plus the request builder and
 * the hardened frame parser.
 */
import { ProtocolError } from "./errors.js";

/** SUBPROTOCOL is the WebSocket subprotocol the SDK offers. */
export const SUBPROTOCOL = "imapbridge.v1";
/** BEARER_PREFIX prefixes the token in the second subprotocol value. */
export const BEARER_PREFIX = "bearer.";
/** MAX_INBOUND_FRAME_CHARS bounds an inbound text frame (16 Mi UTF-16 code units); larger frames are dropped. */
export const MAX_INBOUND_FRAME_CHARS = 16 * 1024 * 1024;

/** A readonly map keyed by server-derived strings; a null-prototype object, never a plain one. */
export type SafeRecord<T> = { readonly [key: string]: T };

/** StatusItem names a STATUS item. */
export type StatusItem = "MESSAGES" | "RECENT" | "UIDNEXT" | "UIDVALIDITY" | "UNSEEN" | "HIGHESTMODSEQ";
/** FetchItem names a fetch item. */
export type FetchItem = "uid" | "flags" | "envelope" | "bodystructure" | "size" | "internaldate" | "modseq"
  | "gmailMsgId" | "gmailThreadId" | "gmailLabels";
/** Binary is the wire form of bytes that are not (or need not be) UTF-8 text. */
export interface Binary { readonly base64: string }

/** BodyRequest asks for one body section. */
export interface BodyRequest {
  /** section is the IMAP section spec ("", "TEXT", "1.2", "HEADER.FIELDS (DATE FROM)"). */
  section: string;
  /** peek leaves \Seen unchanged. */
  peek?: boolean;
  /** partial fetches length bytes from offset. */
  partial?: { offset: number; length: number };
}

/** Qresync are select's QRESYNC parameters. */
export interface Qresync { uidValidity: number; modSeq: number; knownUids?: string }

/** Address is one envelope address. */
export interface Address { readonly name?: string; readonly addr: string; readonly group?: string }

/** Envelope is a message's envelope (text RFC 2047-decoded; never interpret it as HTML). */
export interface Envelope {
  readonly date?: string;
  readonly subject: string;
  readonly from: readonly Address[];
  readonly sender: readonly Address[];
  readonly replyTo: readonly Address[];
  readonly to: readonly Address[];
  readonly cc: readonly Address[];
  readonly bcc: readonly Address[];
  readonly inReplyTo?: string;
  readonly messageId?: string;
}

/** BodyStructure is one MIME part; params are null-prototype records. */
export interface BodyStructure {
  readonly part: string;
  readonly type: string;
  readonly subtype: string;
  readonly params?: SafeRecord<string>;
  readonly id?: string;
  readonly description?: string;
  readonly encoding?: string;
  readonly size?: number;
  readonly lines?: number;
  readonly disposition?: string;
  readonly dispositionParams?: SafeRecord<string>;
  readonly filename?: string;
  readonly parts?: readonly BodyStructure[];
  readonly envelope?: Envelope;
  readonly message?: BodyStructure;
}

/** BodyPart is fetched section data: text when UTF-8, else base64; neither for NIL. */
export interface BodyPart { readonly section: string; readonly offset?: number; readonly text?: string; readonly base64?: string }

/** Message is one fetched message. */
export interface Message {
  readonly seq: number;
  readonly uid?: number;
  readonly flags?: readonly string[];
  readonly internalDate?: string;
  readonly size?: number;
  readonly modseq?: number;
  /** gmailMsgId, gmailThreadId: Gmail's X-GM-MSGID / X-GM-THRID in decimal (64-bit: strings). */
  readonly gmailMsgId?: string;
  readonly gmailThreadId?: string;
  /** gmailLabels: X-GM-LABELS (system labels as "\\Inbox"). */
  readonly gmailLabels?: readonly string[];
  readonly envelope?: Envelope;
  readonly bodyStructure?: BodyStructure;
  readonly body?: readonly BodyPart[];
  readonly error?: string;
}

/** SelectResult is select's result. */
export interface SelectResult {
  readonly mailbox: string;
  readonly exists: number;
  readonly recent: number;
  readonly uidValidity: number;
  readonly uidNext: number;
  readonly highestModSeq?: number;
  readonly flags: readonly string[];
  readonly permanentFlags: readonly string[];
  readonly readOnly: boolean;
  readonly vanished?: readonly string[];
  readonly changed?: readonly Message[];
}

/** StatusResult is status's result (and a list entry's status). */
export interface StatusResult {
  readonly mailbox: string;
  readonly messages?: number;
  readonly recent?: number;
  readonly uidNext?: number;
  readonly uidValidity?: number;
  readonly unseen?: number;
  readonly highestModSeq?: number;
}

/** MailboxInfo is one list entry. */
export interface MailboxInfo {
  readonly name: string;
  readonly delimiter: string;
  readonly attributes: readonly string[];
  readonly specialUse?: string;
  readonly status?: StatusResult;
}

/** ListResult is list's result. */
export interface ListResult { readonly mailboxes: readonly MailboxInfo[] }
/** FetchResult is fetch's result. */
export interface FetchResult { readonly messages: readonly Message[] }
/** SearchResult is search's result: a compact sorted UID set ("" for none) and its size. */
export interface SearchResult { readonly uids: string; readonly count: number }
/** StoreResult is store's result. */
export interface StoreResult { readonly messages: readonly Message[]; readonly modified?: string }
/** CopyResult is copy's and move's result (members only with UIDPLUS). */
export interface CopyResult { readonly uidValidity?: number; readonly sourceUids?: string; readonly destUids?: string }
/** AppendResult is append's result (members only with UIDPLUS). */
export interface AppendResult { readonly uidValidity?: number; readonly uid?: number }
/** EmptyResult is the `{}` result. */
export type EmptyResult = Record<string, never>;

/** ImaplibDatum is one item of imaplib's data list. */
export type ImaplibDatum = string | Binary | null | readonly [string | Binary, string | Binary] | { readonly list: readonly ImaplibDatum[] };
/** ImaplibResult is imaplib's (typ, data). */
export interface ImaplibResult { readonly typ: string; readonly data: readonly ImaplibDatum[] }

/** Limits are the bridge's limits announced in hello. */
export interface Limits {
  readonly maxFrameBytes: number;
  readonly maxInFlight: number;
  readonly framesPerSecond: number;
  readonly frameBurst: number;
  readonly outboundQueue: number;
  readonly outboundQueueBytes: number;
  readonly pingIntervalMs: number;
  readonly pongTimeoutMs: number;
  readonly maxDepth: number;
}

/** HelloFrame is the server's first frame on a ready session. */
export interface HelloFrame {
  readonly type: "hello";
  readonly protocol: string;
  readonly session: string;
  readonly user: string;
  readonly capabilities: readonly string[];
  readonly limits: Limits;
  readonly seq: number;
}

/** ResponseFrame answers a request. */
export interface ResponseFrame { readonly type: "response"; readonly id: string; readonly result?: unknown; readonly typ?: string; readonly data?: readonly ImaplibDatum[] }

/** ErrorFrame reports a failed request (or, without id, an unreadable frame). */
export interface ErrorFrame {
  readonly type: "error";
  readonly id?: string;
  readonly error: {
    readonly code: string; readonly message: string;
    readonly imap?: { readonly type: string; readonly code?: string; readonly text: string };
    /** imaplib names imaplib's exception (code "imaplib"). */
    readonly imaplib?: { readonly exception: string; readonly message: string };
  };
}

/** ExistsEvent: the mailbox now has count messages. */
export interface ExistsEvent { readonly type: "event"; readonly seq: number; readonly event: "exists"; readonly mailbox: string; readonly count: number }
/** ExpungeEvent: a message was removed; seqnum is its number before removal. */
export interface ExpungeEvent { readonly type: "event"; readonly seq: number; readonly event: "expunge"; readonly mailbox: string; readonly uid: number; readonly seqnum: number }
/** FlagsEvent: a message's flags changed. */
export interface FlagsEvent { readonly type: "event"; readonly seq: number; readonly event: "flags"; readonly mailbox: string; readonly uid: number; readonly seqnum: number; readonly flags: readonly string[]; readonly modseq?: number }
/** VanishedEvent: messages (a UID set) were removed. */
export interface VanishedEvent { readonly type: "event"; readonly seq: number; readonly event: "vanished"; readonly mailbox: string; readonly uids: string; readonly earlier: boolean }
/** RecentEvent: count messages are \Recent. */
export interface RecentEvent { readonly type: "event"; readonly seq: number; readonly event: "recent"; readonly mailbox: string; readonly count: number }
/** MailboxResetEvent: UIDVALIDITY changed; every cached UID of the mailbox is void. */
export interface MailboxResetEvent { readonly type: "event"; readonly seq: number; readonly event: "mailbox_reset"; readonly mailbox: string; readonly uidValidity: number }
/** AlertEvent: an IMAP [ALERT] the user must see (plain text). */
export interface AlertEvent { readonly type: "event"; readonly seq: number; readonly event: "alert"; readonly text: string }
/** ByeEvent: the IMAP server is closing the session. */
export interface ByeEvent { readonly type: "event"; readonly seq: number; readonly event: "bye"; readonly text: string }
/** SessionState is the bridge session's state. */
export type SessionState = "ready" | "idle" | "busy" | "reconnecting" | "closing";
/** StateEvent: the bridge session changed state. */
export interface StateEvent { readonly type: "event"; readonly seq: number; readonly event: "state"; readonly state: SessionState }
/** StatusValues are a mailbox's watched status values; items the server did not send are absent. */
export interface StatusValues { readonly messages?: number; readonly unseen?: number; readonly uidNext?: number; readonly uidValidity?: number; readonly highestModSeq?: number }
/** StatusEvent: a watched mailbox's status changed (watch, @imapbridge/sdk/find). */
export interface StatusEvent { readonly type: "event"; readonly seq: number; readonly event: "status"; readonly mailbox: string; readonly status: StatusValues }

/** ServerEvent is any known event frame. */
export type ServerEvent = ExistsEvent | ExpungeEvent | FlagsEvent | VanishedEvent | RecentEvent | MailboxResetEvent | AlertEvent | ByeEvent | StateEvent | StatusEvent;
/** EventFrame is any event frame, known kind or not (unknown kinds still count for seq). */
export type EventFrame = ServerEvent | { readonly type: "event"; readonly seq: number; readonly event: string };
/** ServerFrame is any frame the bridge sends. */
export type ServerFrame = HelloFrame | ResponseFrame | ErrorFrame | EventFrame;

/** Op names a request operation. */
export type Op = CoreOp | "find" | "sort" | "thread" | "watch" | "unwatch" | "submit" | "saveDraft";

/** CoreOp is an op whose members the core knows; the others' callers (@imapbridge/sdk/find, /compose) order their own. */
export type CoreOp =
  | "auth" | "login" | "imaplib" | "select" | "list" | "status" | "fetch" | "search" | "store" | "copy" | "move"
  | "expunge" | "append" | "download" | "upload" | "create" | "delete" | "rename" | "subscribe" | "unsubscribe" | "noop" | "logout";

/** MEMBERS lists each op's members in canonical (fixture) order; nothing else is ever sent. */
const MEMBERS: { readonly [K in CoreOp]: readonly string[] } = {
  auth: ["token"], login: ["password"], imaplib: ["cmd", "args"],
  select: ["mailbox", "readOnly", "condstore", "qresync"],
  list: ["ref", "pattern", "specialUse", "status", "subscribed"],
  status: ["mailbox", "items"],
  fetch: ["uids", "seqs", "items", "body", "changedSince", "vanished"],
  search: ["criteria", "gmailRaw"],
  store: ["uids", "mode", "flags", "labels", "silent", "unchangedSince"],
  copy: ["uids", "to"], move: ["uids", "to"], expunge: ["uids"],
  append: ["mailbox", "flags", "date", "message"],
  download: ["mailbox", "uidValidity", "uid", "part", "cid", "disposition"],
  upload: ["mailbox", "flags", "date", "size"],
  create: ["mailbox"], delete: ["mailbox"], subscribe: ["mailbox"], unsubscribe: ["mailbox"],
  rename: ["mailbox", "to"], noop: [], logout: [],
};

/** Nested objects' members in canonical order. */
const NESTED: SafeRecord<readonly string[]> = {
  qresync: ["uidValidity", "modSeq", "knownUids"],
  partial: ["offset", "length"],
};

function pick(src: Readonly<Record<string, unknown>>, keys: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of keys) {
    let v = src[k];
    if (v === undefined || v === null) continue;
    const nested = NESTED[k];
    if (nested !== undefined && typeof v === "object") v = pick(v as Record<string, unknown>, nested);
    else if (k === "body" && Array.isArray(v)) v = v.map((b: Record<string, unknown>) => pick(b, ["section", "peek", "partial"]));
    out[k] = v;
  }
  return out;
}

/**
 * buildRequest returns the request object for op with its members in the
 * canonical order of docs/protocol.md, dropping undefined members and any
 * member the op does not define (the bridge decodes strictly).
 */
export function buildRequest(id: string, op: Op, params: Readonly<Record<string, unknown>> = {}): Record<string, unknown> {
  return { id, op, ...pick(params, (MEMBERS as SafeRecord<readonly string[]>)[op] ?? Object.keys(params)) };
}

/** toBase64 encodes bytes (or a string's UTF-8 bytes) as standard padded base64. */
export function toBase64(data: Uint8Array | string): string {
  const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
  let s = "";
  const chunk = 0x8000;
  for (let i = 0; i < bytes.length; i += chunk) s += String.fromCharCode(...bytes.subarray(i, i + chunk));
  return btoa(s);
}

function safeReviver(_key: string, value: unknown): unknown {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return value;
  const out = Object.create(null) as Record<string, unknown>;
  for (const k of Object.keys(value)) out[k] = (value as Record<string, unknown>)[k];
  return out;
}

/**
 * parseFrame decodes one server frame. Every object in it has a null
 * prototype, so keys such as "__proto__" or "constructor" are plain data.
 * It throws ProtocolError for binary, oversized or malformed frames.
 */
export function parseFrame(data: unknown, maxChars: number = MAX_INBOUND_FRAME_CHARS): ServerFrame {
  if (typeof data !== "string") throw new ProtocolError("binary frame refused");
  if (data.length > maxChars) throw new ProtocolError(`frame of ${data.length} characters exceeds ${maxChars}`);
  let v: unknown;
  try {
    v = JSON.parse(data, safeReviver);
  } catch (e) {
    throw new ProtocolError("malformed JSON frame", { cause: e });
  }
  if (typeof v !== "object" || v === null || Array.isArray(v)) throw new ProtocolError("frame is not a JSON object");
  const f = v as { type?: unknown; seq?: unknown; id?: unknown; error?: unknown };
  switch (f.type) {
    case "hello":
      if (typeof f.seq !== "number") break;
      return v as HelloFrame;
    case "response":
      if (typeof f.id !== "string") break;
      return v as ResponseFrame;
    case "error":
      if (typeof f.error !== "object" || f.error === null) break;
      return v as ErrorFrame;
    case "event":
      if (typeof f.seq !== "number" || typeof (v as { event?: unknown }).event !== "string") break;
      return v as EventFrame;
  }
  throw new ProtocolError("frame of unknown type or missing members");
}
