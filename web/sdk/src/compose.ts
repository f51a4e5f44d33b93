/**
 * @imapbridge/sdk/compose — send mail and keep drafts through the bridge
 * (docs/protocol.md "submit, saveDraft"), and build replies, reply-alls and
 * forwards from a fetched message. The bridge builds the MIME message,
 * checks the sender against the user's identities and sends by SMTP
 * submission; nothing here writes a header. A separate entry point: the
 * core bundle does not grow.
 */
import type { Client } from "./client.js";
import type { Envelope } from "./protocol.js";

/** MailAddress is a display name and an address. */
export interface MailAddress { readonly name?: string; readonly email: string }

/** MessageRef names a stored message. */
export interface MessageRef { readonly mailbox: string; readonly uid: number; readonly uidValidity?: number }

/**
 * AttachmentRef is a file of the new message, taken from a part of a stored
 * message: an uploaded file (uploadMessage of @imapbridge/sdk/transfers with
 * {@link attachmentMessage}), an attachment of the draft being replaced, or
 * one of a forwarded message. filename and contentType default to the part's.
 */
export interface AttachmentRef extends MessageRef {
  readonly part: string;
  readonly filename?: string;
  readonly contentType?: string;
  /** contentId (no angle brackets) and inline make it an inline image ("cid:" URL of the HTML body). */
  readonly contentId?: string;
  readonly inline?: boolean;
}

/** Compose is a message to send or store as a draft. */
export interface Compose {
  /** from must be one of the user's identities (else "forbidden", nothing sent). */
  readonly from: MailAddress;
  readonly to?: readonly MailAddress[];
  readonly cc?: readonly MailAddress[];
  /** bcc recipients get the message; the sent message never names them. */
  readonly bcc?: readonly MailAddress[];
  readonly replyTo?: readonly MailAddress[];
  readonly subject?: string;
  readonly text?: string;
  readonly html?: string;
  readonly attachments?: readonly AttachmentRef[];
  readonly inReplyTo?: string;
  readonly references?: readonly string[];
  /** original gets \Answered (reply) or $Forwarded (forward) once sent. */
  readonly original?: MessageRef & { readonly action: "reply" | "forward" };
  /** draft is the stored draft this replaces (saveDraft) or sends (submit): removed afterwards. */
  readonly draft?: MessageRef;
}

/** RefusedRecipient is a recipient the SMTP server refused (e.g. 550 "5.1.1"). */
export interface RefusedRecipient { readonly email: string; readonly code: number; readonly enhanced?: string; readonly message: string }

/** StoredRef is where a message was stored (uid absent without UIDPLUS). */
export interface StoredRef { readonly mailbox: string; readonly uidValidity?: number; readonly uid?: number }

/** SubmitResult: the message was accepted for `accepted`; `refused` lists the others. */
export interface SubmitResult {
  readonly messageId: string;
  readonly accepted: readonly string[];
  readonly refused: readonly RefusedRecipient[];
  /** sent is the Sent copy; absent when the upstream saves sent mail itself or sentError says why. */
  readonly sent?: StoredRef;
  readonly sentError?: string;
  readonly draftRemoved?: boolean;
}

/** DraftResult: where the draft now is; replaced when the previous one was removed. */
export interface DraftResult { readonly messageId: string; readonly draft: StoredRef; readonly replaced?: boolean }

type Obj = Record<string, unknown>;

/** ordered copies the defined members of src in the order of keys (the bridge decodes strictly). */
function ordered(src: object | undefined, keys: readonly string[]): Obj | undefined {
  if (src === undefined) return undefined;
  const out: Obj = {};
  for (const k of keys) {
    const v = (src as Obj)[k];
    if (v !== undefined && v !== null) out[k] = v;
  }
  return out;
}

const ADDRESS = ["name", "email"];
const REF = ["mailbox", "uidValidity", "uid"];
const list = (l: readonly object[] | undefined, keys: readonly string[]): Obj[] | undefined =>
  l === undefined || l.length === 0 ? undefined : l.map((a) => ordered(a, keys) as Obj);

/** composeMembers is the request's members in canonical (fixture) order. */
export function composeMembers(m: Compose): Obj {
  return ordered({
    from: ordered(m.from, ADDRESS),
    to: list(m.to, ADDRESS), cc: list(m.cc, ADDRESS), bcc: list(m.bcc, ADDRESS), replyTo: list(m.replyTo, ADDRESS),
    subject: m.subject === "" ? undefined : m.subject, text: m.text === "" ? undefined : m.text,
    html: m.html === "" ? undefined : m.html,
    attachments: list(m.attachments, [...REF, "part", "filename", "contentType", "contentId", "inline"]),
    inReplyTo: m.inReplyTo === "" ? undefined : m.inReplyTo,
    references: m.references === undefined || m.references.length === 0 ? undefined : m.references,
    original: ordered(m.original, [...REF, "action"]),
    draft: ordered(m.draft, REF),
  }, ["from", "to", "cc", "bcc", "replyTo", "subject", "text", "html", "attachments", "inReplyTo", "references", "original", "draft"]) as Obj;
}

/** submit sends m. Rejects with ServerError: "forbidden" (From not the user's), "limit", "smtp" (refused), "timeout", "unavailable", "not_configured". */
export function submit(client: Client, m: Compose): Promise<SubmitResult> {
  return client.request<SubmitResult>("submit", composeMembers(m));
}

/** saveDraft stores m in Drafts (\Draft \Seen), replacing m.draft when given. */
export function saveDraft(client: Client, m: Compose): Promise<DraftResult> {
  return client.request<DraftResult>("saveDraft", composeMembers(m));
}

/** ADDRESS_PATTERN is what the compose helpers accept as an address (one "@", no spaces or angle brackets). */
export const ADDRESS_PATTERN = /^[^\s@<>()",;:\\[\]]+@[^\s@<>()",;:\\[\]]+\.[^\s@<>()",;:\\[\]]+$/u;

/** isAddress reports whether s looks like a deliverable address (for form validation; the server decides). */
export const isAddress = (s: string): boolean => s.length <= 254 && ADDRESS_PATTERN.test(s);

/** parseAddresses splits "Ann <ann@x.org>, bob@y.org" into addresses; invalid entries are returned in `invalid`. */
export function parseAddresses(input: string): { readonly addresses: MailAddress[]; readonly invalid: string[] } {
  const addresses: MailAddress[] = [];
  const invalid: string[] = [];
  const parts: string[] = [];
  let cur = "", quoted = false, angle = false;
  for (const ch of input) {
    if (ch === '"') quoted = !quoted;
    else if (ch === "<" && !quoted) angle = true;
    else if (ch === ">" && !quoted) angle = false;
    if ((ch === "," || ch === ";" || ch === "\n") && !quoted && !angle) {
      parts.push(cur);
      cur = "";
    } else cur += ch;
  }
  parts.push(cur);
  for (const raw of parts) {
    const part = raw.trim();
    if (part === "") continue;
    const m = /^(.*)<([^<>]+)>$/u.exec(part);
    const email = (m?.[2] ?? part).trim();
    const name = (m?.[1] ?? "").trim().replace(/^"(.*)"$/u, "$1");
    if (isAddress(email)) addresses.push(name === "" ? { email } : { name, email });
    else invalid.push(part);
  }
  return { addresses, invalid };
}

/** formatAddress renders an address for display ("Ann <ann@x.org>"). */
export const formatAddress = (a: MailAddress): string => a.name !== undefined && a.name !== "" ? `${a.name} <${a.email}>` : a.email;

/** Original is a fetched message to reply to or forward. */
export interface Original extends MessageRef {
  readonly envelope: Envelope;
  /** references is the original's References field (HEADER.FIELDS (REFERENCES)), if fetched. */
  readonly references?: string;
  /** text is the original's plain text, quoted in the reply or forward. */
  readonly text?: string;
}

const ids = (s: string | undefined): string[] => s === undefined ? [] : s.match(/<[^<>\s]+>/gu) ?? [];
const fromEnvelope = (l: Envelope["from"]): MailAddress[] =>
  l.filter((a) => a.addr !== "").map((a) => (a.name !== undefined && a.name !== "" ? { name: a.name, email: a.addr } : { email: a.addr }));
const prefixed = (prefix: string, subject: string): string =>
  new RegExp(`^${prefix}:`, "iu").test(subject.trim()) ? subject.trim() : `${prefix}: ${subject.trim()}`;
const quote = (text: string): string => text.replace(/\r\n/gu, "\n").split("\n").map((l) => (l === "" ? ">" : `> ${l}`)).join("\n");

/** threading is In-Reply-To and References for an answer to o (RFC 5322 §3.6.4). */
function threading(o: Original): { inReplyTo?: string; references?: string[] } {
  const id = o.envelope.messageId;
  if (id === undefined || id === "") return {};
  const refs = ids(o.references);
  if (refs.length === 0 && o.envelope.inReplyTo !== undefined) refs.push(...ids(o.envelope.inReplyTo));
  if (!refs.includes(id)) refs.push(id);
  return { inReplyTo: id, references: refs.slice(-20) };
}

/**
 * reply builds the answer to o from me: to the Reply-To (else From); with
 * all, also every To and Cc except me. Subject "Re: ", threading headers,
 * the original quoted, and \Answered set on it once sent.
 */
export function reply(o: Original, me: MailAddress, all = false): Compose {
  const env = o.envelope;
  const to = fromEnvelope(env.replyTo.length > 0 ? env.replyTo : env.from);
  const seen = new Set([me.email.toLowerCase(), ...to.map((a) => a.email.toLowerCase())]);
  const keep = (a: MailAddress): boolean => !seen.has(a.email.toLowerCase()) && (seen.add(a.email.toLowerCase()), true);
  const cc = all ? [...fromEnvelope(env.to), ...fromEnvelope(env.cc)].filter(keep) : [];
  const who = env.from[0] !== undefined ? formatAddress(fromEnvelope(env.from)[0] ?? { email: "" }) : "";
  const when = env.date !== undefined ? `On ${env.date}, ` : "";
  const text = o.text !== undefined ? `\n\n${when}${who} wrote:\n${quote(o.text)}\n` : undefined;
  return {
    from: me, to, ...(cc.length > 0 ? { cc } : {}), subject: prefixed("Re", env.subject), ...threading(o),
    ...(text !== undefined ? { text } : {}),
    original: { mailbox: o.mailbox, uid: o.uid, ...(o.uidValidity !== undefined ? { uidValidity: o.uidValidity } : {}), action: "reply" },
  };
}

/**
 * forward builds a forward of o from me (no recipients yet): Subject "Fwd: ",
 * the original's header block and text, its attachments (pass them, e.g. from
 * its BODYSTRUCTURE), and $Forwarded set on it once sent.
 */
export function forward(o: Original, me: MailAddress, attachments: readonly AttachmentRef[] = []): Compose {
  const env = o.envelope;
  const head = ["---------- Forwarded message ----------",
    `From: ${fromEnvelope(env.from).map(formatAddress).join(", ")}`,
    ...(env.date !== undefined ? [`Date: ${env.date}`] : []),
    `Subject: ${env.subject}`,
    `To: ${fromEnvelope(env.to).map(formatAddress).join(", ")}`];
  const { references } = threading(o);
  return {
    from: me, subject: prefixed("Fwd", env.subject), text: `\n\n${head.join("\n")}\n\n${o.text ?? ""}`,
    ...(references !== undefined ? { references } : {}),
    ...(attachments.length > 0 ? { attachments } : {}),
    original: { mailbox: o.mailbox, uid: o.uid, ...(o.uidValidity !== undefined ? { uidValidity: o.uidValidity } : {}), action: "forward" },
  };
}

/**
 * attachmentMessage wraps a file as a one-part message for uploadMessage
 * (@imapbridge/sdk/transfers) into Drafts; then attach it as
 * `{ mailbox, uid, part: "1" }`. The bytes are base64 in 76-column lines.
 */
export async function attachmentMessage(file: Blob, filename: string): Promise<Blob> {
  const bytes = new Uint8Array(await file.arrayBuffer());
  const type = /^[\w.+-]+\/[\w.+-]+$/u.test(file.type) ? file.type : "application/octet-stream";
  const safe = encodeURIComponent(filename).replace(/['()*]/gu, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  let b64 = "";
  const chunk = 0x8000;
  for (let i = 0; i < bytes.length; i += chunk) b64 += String.fromCharCode(...bytes.subarray(i, i + chunk));
  b64 = btoa(b64).replace(/.{76}/gu, "$&\r\n");
  const head = `Subject: attachment\r\nMIME-Version: 1.0\r\nContent-Type: ${type}\r\n` +
    `Content-Disposition: attachment; filename*=utf-8''${safe}\r\nContent-Transfer-Encoding: base64\r\n\r\n`;
  return new Blob([head, b64, "\r\n"], { type: "message/rfc822" });
}
