/**
 * Attachments in the message view: chips that download (through the
 * bridge's one-time transfer URLs, @imapbridge/sdk/transfers), image and PDF
 * previews, inline (cid:) images of an HTML body, and a progress bar for any
 * transfer that lasts longer than PROGRESS_DELAY_MS.
 */
import type { Client } from "../../sdk/src/index.js";
import { downloadUrl, readDownload, resolveInlineImages, type Progress } from "../../sdk/src/transfers.js";
import { el, icon } from "./dom.js";
import type { Attachment } from "./mime.js";

/** PROGRESS_DELAY_MS is how long a transfer runs before its progress bar shows (shorter ones never flash one). */
export const PROGRESS_DELAY_MS = 1000;
/** PREVIEW_TYPES are the media types shown in the preview overlay rather than only downloaded. */
export const PREVIEW_TYPES = /^(image\/(png|jpeg|gif|webp|bmp|avif)|application\/pdf)$/i;
/** OBJECT_URL_TTL_MS is how long a downloaded file's object URL lives after the save starts. */
export const OBJECT_URL_TTL_MS = 60_000;

/** bridgeOrigin is the bridge's HTTP origin: the demo is served by the bridge itself. */
const bridgeOrigin = (): string => location.origin;

/** Where names a message: its mailbox and UID (and UIDVALIDITY when known). */
export interface Where {
  readonly mailbox: string;
  readonly uid: number;
  readonly uidValidity?: number;
}

/**
 * ProgressBars is the stack of transfer progress bars at the bottom of the
 * page (data-testid="transfer-progress" each, with data-name). A bar appears
 * only once its transfer has run PROGRESS_DELAY_MS.
 */
export class ProgressBars {
  private host: HTMLElement | undefined;

  private root(): HTMLElement {
    if (this.host === undefined) {
      this.host = el("div", "transfers", undefined, "transfers");
      this.host.setAttribute("role", "status");
      this.host.setAttribute("aria-live", "polite");
      document.body.append(this.host);
    }
    return this.host;
  }

  /** track shows a bar for name while task runs (after the delay); task gets a progress callback. */
  async track<T>(name: string, verb: string, task: (p: Progress) => Promise<T>): Promise<T> {
    const bar = el("div", "transfer", undefined, "transfer-progress");
    bar.dataset["name"] = name;
    const label = el("div", "transfer-label", `${verb} ${name}`);
    const meter = el("progress", "transfer-meter");
    meter.max = 1;
    const text = el("span", "transfer-text", "");
    bar.append(label, meter, text);
    let loaded = 0;
    let total = 0;
    const paint = (): void => {
      if (total > 0) meter.value = Math.min(1, loaded / total);
      else meter.removeAttribute("value");
      text.textContent = total > 0 ? `${size(loaded)} of ${size(total)}` : size(loaded);
    };
    const timer = setTimeout(() => {
      paint();
      this.root().append(bar);
    }, PROGRESS_DELAY_MS);
    try {
      return await task((l, t) => {
        loaded = l;
        total = t;
        if (bar.isConnected) paint();
      });
    } finally {
      clearTimeout(timer);
      bar.remove();
    }
  }
}

/** progressBars is the page's one stack. */
export const progressBars = new ProgressBars();

/** size formats a byte count. */
export function size(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${Math.round(n / 1024)} KB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}

/** fetchPart downloads one part (decoded) with a progress bar; the Blob's type is the part's. */
export async function fetchPart(client: Client, at: Where, a: Attachment, disposition: "inline" | "attachment"): Promise<Blob> {
  return progressBars.track(a.name, disposition === "inline" ? "Opening" : "Downloading", async (p) => {
    const url = await downloadUrl(client, bridgeOrigin(), { ...at, part: a.section, disposition });
    return readDownload(url, p);
  });
}

/** save hands a Blob to the browser as a file download named name. */
export function save(blob: Blob, name: string): void {
  const url = URL.createObjectURL(blob);
  const a = el("a");
  a.href = url;
  a.download = name;
  a.hidden = true;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), OBJECT_URL_TTL_MS);
}

/**
 * Preview is the overlay showing an image (an <img>) or a PDF (an <iframe>
 * of a Blob typed application/pdf, so the browser's viewer renders it and
 * nothing else can) from a downloaded part.
 */
class Preview {
  private overlay: HTMLElement | undefined;
  private url: string | undefined;

  show(blob: Blob, a: Attachment, onDownload: () => void): void {
    this.close();
    const pdf = a.type.toLowerCase() === "application/pdf";
    // The type comes from BODYSTRUCTURE via the bridge; re-typed here so the
    // object URL can only be the kind of document the preview expects.
    this.url = URL.createObjectURL(new Blob([blob], { type: pdf ? "application/pdf" : a.type }));
    const overlay = el("div", "preview", undefined, "preview");
    overlay.setAttribute("role", "dialog");
    overlay.setAttribute("aria-label", `Preview of ${a.name}`);
    const bar = el("div", "preview-bar");
    const close = el("button", "btn", "Close", "preview-close");
    close.type = "button";
    close.addEventListener("click", () => this.close());
    const dl = el("button", "btn", "Download", "preview-download");
    dl.type = "button";
    dl.addEventListener("click", onDownload);
    bar.append(el("span", "preview-name", a.name), dl, close);
    let body: HTMLElement;
    if (pdf) {
      const f = el("iframe", "preview-pdf", undefined, "preview-pdf");
      f.title = a.name;
      f.src = this.url;
      body = f;
    } else {
      const img = el("img", "preview-image", undefined, "preview-image");
      img.alt = a.name;
      img.src = this.url;
      body = img;
    }
    overlay.append(bar, body);
    overlay.addEventListener("click", (ev) => { if (ev.target === overlay) this.close(); });
    document.addEventListener("keydown", this.onKey);
    document.body.append(overlay);
    this.overlay = overlay;
  }

  private readonly onKey = (ev: KeyboardEvent): void => {
    if (ev.key === "Escape") this.close();
  };

  close(): void {
    this.overlay?.remove();
    this.overlay = undefined;
    if (this.url !== undefined) URL.revokeObjectURL(this.url);
    this.url = undefined;
    document.removeEventListener("keydown", this.onKey);
  }
}

const preview = new Preview();

/**
 * showChips fills list with one chip per attachment: its name and size, a
 * download button and, for images and PDFs, a preview button. A failure goes
 * to onError (the page's toast).
 */
export function showChips(list: HTMLUListElement, client: Client, at: Where, atts: readonly Attachment[], onError: (text: string) => void): void {
  preview.close();
  list.replaceChildren(...atts.map((a) => {
    const li = el("li", "attachment", undefined, "attachment");
    li.dataset["name"] = a.name;
    if (a.cid !== undefined) li.dataset["cid"] = a.cid;
    const download = async (): Promise<void> => {
      try {
        save(await fetchPart(client, at, a, "attachment"), a.name);
      } catch (e) {
        onError(`Could not download ${a.name}: ${e instanceof Error ? e.message : String(e)}`);
      }
    };
    const dl = el("button", "chip-main", undefined, "attachment-download");
    dl.type = "button";
    dl.title = `Download ${a.name}`;
    dl.append(icon("paperclip"), el("span", "chip-name", a.name));
    if (a.size !== undefined) dl.append(el("span", "size", approxSize(a)));
    dl.addEventListener("click", () => void download());
    li.append(dl);
    if (PREVIEW_TYPES.test(a.type)) {
      const pv = el("button", "chip-preview", undefined, "attachment-preview");
      pv.type = "button";
      pv.title = `Preview ${a.name}`;
      pv.append(icon("image"));
      pv.addEventListener("click", () => {
        void (async () => {
          try {
            preview.show(await fetchPart(client, at, a, "inline"), a, () => void download());
          } catch (e) {
            onError(`Could not open ${a.name}: ${e instanceof Error ? e.message : String(e)}`);
          }
        })();
      });
      li.append(pv);
    }
    return li;
  }));
  list.hidden = atts.length === 0;
}

/** hideInline hides the chips of parts the HTML body shows inline (by Content-ID). */
export function hideInline(list: HTMLUListElement, cids: readonly string[]): void {
  let shown = 0;
  for (const li of list.querySelectorAll<HTMLElement>("li.attachment")) {
    const cid = li.dataset["cid"];
    li.hidden = cid !== undefined && cids.includes(cid);
    if (!li.hidden) shown++;
  }
  list.hidden = shown === 0;
}

/** approxSize is an attachment's decoded size (base64 parts: about 3/4 of the encoded size). */
function approxSize(a: Attachment): string {
  const n = a.size ?? 0;
  return size(a.encoding === "base64" ? Math.round(n * 0.75) : n);
}

/**
 * inlineImages resolves an HTML body's cid: images to data: URLs (each
 * downloaded by Content-ID on a one-time URL), with a progress bar when that
 * takes a while. It returns the rewritten HTML and the Content-IDs shown.
 */
export async function inlineImages(client: Client, at: Where, html: string): Promise<{ html: string; cids: readonly string[] }> {
  const r = await progressBars.track("inline images", "Loading", (p) => resolveInlineImages(client, bridgeOrigin(), at, html, { onProgress: p }));
  for (const [cid, e] of r.failed) console.warn(`imapbridge demo: inline image ${cid}:`, e.message);
  return { html: r.html, cids: r.resolved };
}
