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
