/**
 * MIME: choosing the parts to show from a body structure, and decoding a
 * fetched part (transfer encoding, then charset) into text.
 */
import type { BodyPart, BodyStructure } from "../../sdk/src/index.js";

/** MAX_BODY_BYTES bounds the bytes fetched for one displayed part (1 MiB). */
export const MAX_BODY_BYTES = 1024 * 1024;
/** MAX_MIME_DEPTH bounds the body-structure walk. */
export const MAX_MIME_DEPTH = 32;

/** Leaf is a part to fetch: its section and how to decode it. */
export interface Leaf {
  readonly section: string;
  readonly encoding: string;
  readonly charset: string;
}

/** Attachment describes an attachment for display and download (attachments.ts). */
export interface Attachment {
  readonly name: string;
  readonly size: number | undefined;
  /** section is the BODYSTRUCTURE part number. */
  readonly section: string;
  /** type is the media type, lower case ("image/png"). */
  readonly type: string;
  readonly encoding: string;
  /** cid is the Content-ID without angle brackets, when the part has one. */
  readonly cid?: string;
}

/** Parts are what the message view shows. */
export interface Parts {
  readonly html: Leaf | undefined;
  readonly text: Leaf | undefined;
  readonly attachments: readonly Attachment[];
}

const lower = (s: string | undefined): string => (s ?? "").toLowerCase();

function leaf(p: BodyStructure): Leaf {
  return { section: p.part !== "" ? p.part : "1", encoding: lower(p.encoding), charset: lower(p.params?.["charset"]) || "utf-8" };
}

/** choose walks a body structure and picks the HTML part, the text part and the attachments. */
export function choose(root: BodyStructure): Parts {
  let html: Leaf | undefined;
  let text: Leaf | undefined;
  const attachments: Attachment[] = [];
  const walk = (p: BodyStructure, depth: number): void => {
    if (depth > MAX_MIME_DEPTH) return;
    const type = lower(p.type);
    const sub = lower(p.subtype);
    if (type === "multipart") {
      for (const c of p.parts ?? []) walk(c, depth + 1);
      return;
    }
    const isAttachment = lower(p.disposition) === "attachment" || (p.filename !== undefined && p.filename !== "");
    if (!isAttachment && type === "text" && sub === "html" && html === undefined) html = leaf(p);
    else if (!isAttachment && type === "text" && sub === "plain" && text === undefined) text = leaf(p);
    else if (type !== "message" || isAttachment)
      attachments.push({
        name: p.filename ?? p.params?.["name"] ?? `${type}/${sub}`, size: p.size, section: p.part !== "" ? p.part : "1",
        type: `${type}/${sub}`, encoding: lower(p.encoding), ...(p.id ? { cid: p.id.replace(/^\s*<|>\s*$/g, "") } : {}),
      });
  };
  walk(root, 0);
  return { html, text, attachments };
}

/** base64Bytes decodes base64, skipping whitespace and any invalid characters. */
export function base64Bytes(s: string): Uint8Array {
  const clean = s.replace(/[^A-Za-z0-9+/]/g, "");
  const usable = clean.slice(0, clean.length - (clean.length % 4 === 1 ? 1 : 0));
  const padded = usable + "=".repeat((4 - (usable.length % 4)) % 4);
  try {
    const bin = atob(padded);
    const out = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out;
  } catch {
    return new Uint8Array(0);
  }
}

/** quotedPrintable decodes quoted-printable bytes (soft line breaks removed, bad escapes kept). */
export function quotedPrintable(b: Uint8Array): Uint8Array {
  const out = new Uint8Array(b.length);
  let n = 0;
  const hex = (c: number | undefined): number => {
    if (c === undefined) return -1;
    if (c >= 48 && c <= 57) return c - 48;
    if (c >= 65 && c <= 70) return c - 55;
    if (c >= 97 && c <= 102) return c - 87;
    return -1;
  };
  for (let i = 0; i < b.length; i++) {
    const c = b[i] ?? 0;
    if (c !== 61) {
      out[n++] = c;
      continue;
    }
    if (b[i + 1] === 13 && b[i + 2] === 10) { i += 2; continue; }
    if (b[i + 1] === 10) { i += 1; continue; }
    const h = hex(b[i + 1]);
    const l = hex(b[i + 2]);
    if (h >= 0 && l >= 0) {
      out[n++] = h * 16 + l;
      i += 2;
    } else out[n++] = c;
  }
  return out.slice(0, n);
}

/** rawBytes returns the bytes of a fetched body part as the server sent them. */
function rawBytes(p: BodyPart): Uint8Array {
  if (p.text !== undefined) return new TextEncoder().encode(p.text);
  if (p.base64 !== undefined) return base64Bytes(p.base64);
  return new Uint8Array(0);
}

/** decodePart turns a fetched part into text: transfer decoding, then the charset (UTF-8 when unknown). */
export function decodePart(p: BodyPart, l: Leaf): string {
  let bytes = rawBytes(p);
  if (l.encoding === "base64") bytes = base64Bytes(new TextDecoder("latin1").decode(bytes));
  else if (l.encoding === "quoted-printable") bytes = quotedPrintable(bytes);
  let dec: TextDecoder;
  try {
    dec = new TextDecoder(l.charset);
  } catch {
    dec = new TextDecoder("utf-8");
  }
  return dec.decode(bytes);
}
