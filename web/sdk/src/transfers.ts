/**
 * @imapbridge/sdk/transfers — attachments and large messages over HTTP with
 * one-time tickets (docs/protocol.md "download, upload"): download URLs, a
 * streamed read with progress, and upload of a Blob/File with progress and
 * cancellation. A separate entry point: the core bundle does not grow.
 */
import type { Client } from "./client.js";

/** TicketResult is the answer to download and upload: a one-time URL (path). */
export interface TicketResult { readonly url: string; readonly expiresAt: string }

/** DownloadTarget names a message part; no part means the whole message (.eml). */
export interface DownloadTarget {
  readonly mailbox: string;
  readonly uid: number;
  readonly uidValidity?: number;
  readonly part?: string;
  /** cid names the part by Content-ID (a cid: URL without "cid:"), instead of part. */
  readonly cid?: string;
  readonly disposition?: "inline" | "attachment";
}

/** TransferError is every refusal of a transfer, with the HTTP status (0: network or aborted). */
export class TransferError extends Error {
  readonly status: number;
  /** kind: "ticket" (403/410 used, expired, other origin), "not_found", "too_large", "limit", "aborted", "upstream", "network". */
  readonly kind: string;
  constructor(status: number, message: string) {
    super(message);
    this.name = "TransferError";
    this.status = status;
    this.kind = status === 0 ? (message === "aborted" ? "aborted" : "network")
      : status === 403 || status === 410 ? "ticket" : status === 404 ? "not_found" : status === 413 ? "too_large"
      : status === 429 ? "limit" : status >= 500 ? "upstream" : "bad_request";
  }
}

/** httpOrigin is the bridge's HTTP origin for a ws:// or wss:// endpoint URL. */
export function httpOrigin(wsUrl: string): string {
  const u = new URL(wsUrl);
  u.protocol = u.protocol === "wss:" ? "https:" : "http:";
  return u.origin;
}

/** downloadUrl asks the session for a one-time URL (valid once, ≤ 60 s) of a part or message. */
export async function downloadUrl(client: Client, bridge: string, target: DownloadTarget): Promise<string> {
  const r = await client.request<TicketResult>("download", { ...target });
  return new URL(r.url, bridge).href;
}

/** Progress reports bytes done and the total when known (0 otherwise). */
export type Progress = (loaded: number, total: number) => void;

/** readDownload fetches a download URL as a stream, reporting progress; the Blob is the decoded part. */
export async function readDownload(url: string, onProgress?: Progress, signal?: AbortSignal): Promise<Blob> {
  let resp: Response;
  try {
    resp = await fetch(url, { signal: signal ?? null, credentials: "omit", cache: "no-store" });
  } catch {
    throw new TransferError(0, signal?.aborted === true ? "aborted" : "network error");
  }
  if (!resp.ok || resp.body === null) throw new TransferError(resp.status, `download refused: ${resp.status}`);
  const total = Number(resp.headers.get("Content-Length") ?? 0) || 0;
  const reader = resp.body.getReader();
  const parts: Uint8Array[] = [];
  let loaded = 0;
  for (;;) {
    let r: ReadableStreamReadResult<Uint8Array>;
    try {
      r = await reader.read();
    } catch {
      // A bridge that aborts mid-body (IMAP failed) ends here: never a truncated file.
      throw new TransferError(0, signal?.aborted === true ? "aborted" : "download cut");
    }
    if (r.done) break;
    parts.push(r.value);
    loaded += r.value.byteLength;
    onProgress?.(loaded, total);
  }
  if (total > 0 && loaded !== total) throw new TransferError(0, "download cut");
  return new Blob(parts as BlobPart[], { type: resp.headers.get("Content-Type") ?? "" });
}

/** UploadOptions refine uploadMessage. */
export interface UploadOptions {
  readonly flags?: readonly string[];
  readonly date?: Date;
  readonly onProgress?: Progress;
  readonly signal?: AbortSignal;
}

/** uploadMessage appends an RFC 5322 message (Blob or File) to mailbox with an HTTP PUT on a one-time URL. */
export async function uploadMessage(client: Client, bridge: string, mailbox: string, message: Blob, o: UploadOptions = {}): Promise<{ uidValidity?: number; uid?: number }> {
  const r = await client.request<TicketResult>("upload", {
    mailbox, flags: o.flags, date: o.date?.toISOString().replace(/\.\d{3}Z$/, "Z"), size: message.size,
  });
  const url = new URL(r.url, bridge).href;
  return new Promise((resolve, reject) => {
    const x = new XMLHttpRequest();
    x.open("PUT", url);
    x.upload.onprogress = (e) => o.onProgress?.(e.loaded, message.size);
    x.onload = () => {
      if (x.status === 200) resolve(JSON.parse(x.responseText) as { uidValidity?: number; uid?: number });
      else reject(new TransferError(x.status, x.responseText.trim() || `upload refused: ${x.status}`));
    };
    x.onerror = () => reject(new TransferError(0, "network error"));
    x.onabort = () => reject(new TransferError(0, "aborted"));
    o.signal?.addEventListener("abort", () => x.abort(), { once: true });
    x.send(message);
  });
}

/** CID_URL matches a cid: URL (RFC 2392) in an HTML attribute value or CSS url(): group 1 is the Content-ID. */
const CID_URL = /\bcid:([^\s"'()<>\\]+)/gi;

/** cidOf normalises a cid: URL's Content-ID (percent-decoded, no angle brackets). */
function cidOf(raw: string): string {
  let s = raw;
  try {
    s = decodeURIComponent(raw);
  } catch {
    // a stray % stays as written
  }
  return s.replace(/^<|>$/g, "");
}

/** cidRefs lists the distinct Content-IDs an HTML body refers to with cid: URLs, in order of first use. */
export function cidRefs(html: string): string[] {
  const out = new Set<string>();
  for (const m of html.matchAll(CID_URL)) out.add(cidOf(m[1] ?? ""));
  return [...out].filter((c) => c !== "");
}

/** replaceCids rewrites each cid: URL whose Content-ID is in urls; the others stay as they are (and load nothing). */
export function replaceCids(html: string, urls: ReadonlyMap<string, string>): string {
  return html.replace(CID_URL, (all, id: string) => urls.get(cidOf(id)) ?? all);
}

/** INLINE_IMAGE_MAX_BYTES is the largest inline image resolveInlineImages embeds (10 MiB); larger ones stay unresolved. */
export const INLINE_IMAGE_MAX_BYTES = 10 << 20;
/** INLINE_IMAGE_CONCURRENCY is how many inline images download at once (the bridge allows 4 transfers per user). */
export const INLINE_IMAGE_CONCURRENCY = 2;

/** InlineImageOptions refine resolveInlineImages. */
export interface InlineImageOptions {
  /** maxBytes overrides INLINE_IMAGE_MAX_BYTES. */
  readonly maxBytes?: number;
  /** concurrency overrides INLINE_IMAGE_CONCURRENCY. */
  readonly concurrency?: number;
  /** onProgress reports the bytes of all inline images read so far. */
  readonly onProgress?: Progress;
  readonly signal?: AbortSignal;
}

/** InlineImages is the HTML with cid: URLs resolved, and the Content-IDs that failed (with why). */
export interface InlineImages {
  readonly html: string;
  readonly resolved: readonly string[];
  readonly failed: ReadonlyMap<string, TransferError>;
}

/** IMAGE_TYPE is an image media type with nothing else (no parameters, no quotes): safe inside an HTML attribute. */
const IMAGE_TYPE = /^image\/[a-z0-9.+-]+$/;

/** dataUrl reads a Blob as a data: URL of media type type (checked against IMAGE_TYPE by the caller). */
async function dataUrl(b: Blob, type: string): Promise<string> {
  const bytes = new Uint8Array(await b.arrayBuffer());
  let bin = "";
  for (let i = 0; i < bytes.length; i += 0x8000) bin += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return `data:${type};base64,${btoa(bin)}`;
}

/**
 * resolveInlineImages downloads every image an HTML body names by cid: (each
 * on its own one-time URL, by Content-ID, `disposition: inline`) and returns
 * the HTML with those URLs replaced by data: URLs of the decoded images. Data
 * URLs, not the ticket URLs themselves: a ticket is single use (a re-render
 * would get 410), the bridge runs at most TransfersPerUser transfers at once
 * (a message with many images would get 429s), and a sandboxed message
 * document may fetch nothing but data: (its CSP). Only image/* answers are
 * embedded; anything else, or a refusal, is listed in failed.
 */
export async function resolveInlineImages(client: Client, bridge: string, msg: Omit<DownloadTarget, "part" | "cid" | "disposition">,
  html: string, o: InlineImageOptions = {}): Promise<InlineImages> {
  const ids = cidRefs(html);
  const urls = new Map<string, string>();
  const failed = new Map<string, TransferError>();
  const max = o.maxBytes ?? INLINE_IMAGE_MAX_BYTES;
  const loadedBy = new Map<string, number>();
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < ids.length) {
      const cid = ids[next++] as string;
      try {
        const url = await downloadUrl(client, bridge, { ...msg, cid, disposition: "inline" });
        // Stopped as soon as it passes max (and with the caller's signal).
        const ctl = new AbortController();
        const stop = (): void => ctl.abort();
        o.signal?.addEventListener("abort", stop, { once: true });
        let blob: Blob;
        try {
          blob = await readDownload(url, (l) => {
            if (l > max) ctl.abort();
            loadedBy.set(cid, l);
            let sum = 0;
            for (const v of loadedBy.values()) sum += v;
            o.onProgress?.(sum, 0);
          }, ctl.signal);
        } catch (e) {
          if ((loadedBy.get(cid) ?? 0) > max) throw new TransferError(413, `inline image over ${max} bytes`);
          throw e;
        } finally {
          o.signal?.removeEventListener("abort", stop);
        }
        if (blob.size > max) throw new TransferError(413, `inline image over ${max} bytes`);
        // The type comes from the message (BODYSTRUCTURE): only a bare image type goes into the HTML.
        const type = (blob.type.split(";")[0] ?? "").trim().toLowerCase();
        if (!IMAGE_TYPE.test(type)) throw new TransferError(415, `inline part is ${type || "untyped"}, not an image`);
        urls.set(cid, await dataUrl(blob, type));
      } catch (e) {
        failed.set(cid, e instanceof TransferError ? e : new TransferError(0, e instanceof Error ? e.message : String(e)));
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(o.concurrency ?? INLINE_IMAGE_CONCURRENCY, ids.length)) }, worker));
  return { html: replaceCids(html, urls), resolved: [...urls.keys()], failed };
}
