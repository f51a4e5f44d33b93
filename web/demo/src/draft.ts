/**
 * "Save as draft": a small composer (To, Subject, text, attachments) whose
 * message is built here as a MIME Blob and appended to the Drafts folder
 * with \Draft through the bridge's upload path (an HTTP PUT on a one-time
 * URL, @imapbridge/sdk/transfers), with a progress bar for a long upload.
 */
import type { Client } from "../../sdk/src/index.js";
import { TransferError, uploadMessage } from "../../sdk/src/transfers.js";
import { progressBars, size } from "./attachments.js";
import { el, icon } from "./dom.js";

/** DRAFTS_FALLBACK is the folder drafts go to when the server names no \Drafts folder. */
export const DRAFTS_FALLBACK = "Drafts";
/** B64_CHUNK is the bytes base64-encoded at a time (a multiple of 57: one 76-character line each). */
export const B64_CHUNK = 57 * 1024;

/** DraftInput is what the composer holds. */
export interface DraftInput {
  readonly from?: string;
  readonly to: string;
  readonly subject: string;
  readonly text: string;
  readonly files: readonly File[];
  readonly date?: Date;
}

/** ascii reports whether s is printable ASCII. */
const ascii = (s: string): boolean => /^[\x20-\x7e]*$/.test(s);

/** b64 encodes bytes as base64. */
function b64(bytes: Uint8Array): string {
  let bin = "";
  for (let i = 0; i < bytes.length; i += 0x8000) bin += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(bin);
}

/** encodedWord is s as an RFC 2047 encoded word when it is not plain ASCII. */
export function encodedWord(s: string): string {
  const clean = s.replace(/[\r\n]+/g, " ");
  return ascii(clean) ? clean : `=?UTF-8?B?${b64(new TextEncoder().encode(clean))}?=`;
}

/**
 * addressList renders a comma-separated address list for a header: a
 * non-ASCII display name becomes an encoded word, the address itself stays
 * as typed (RFC 2047 §5: never inside an addr-spec).
 */
export function addressList(s: string): string {
  return s.split(",").map((a) => a.trim()).filter((a) => a !== "").map((a) => {
    const m = /^(.*?)\s*<([^<>]+)>$/.exec(a);
    if (m === null) return a.replace(/[\r\n]+/g, " ");
    const name = (m[1] ?? "").replace(/^"|"$/g, "").trim();
    const addr = (m[2] ?? "").trim();
    if (name === "") return `<${addr}>`;
    return ascii(name) ? `"${name.replace(/["\\]/g, "")}" <${addr}>` : `${encodedWord(name)} <${addr}>`;
  }).join(", ");
}

/** filenameParams renders filename (and RFC 2231 filename* for non-ASCII names) for a header. */
export function filenameParams(param: string, name: string): string {
  const fallback = name.replace(/[^\x20-\x7e]|["\\]/g, "_");
  if (ascii(name) && !/["\\]/.test(name)) return `${param}="${name}"`;
  const enc = Array.from(new TextEncoder().encode(name), (c) =>
    /[A-Za-z0-9!#$&+\-.^_`|~]/.test(String.fromCharCode(c)) ? String.fromCharCode(c) : `%${c.toString(16).toUpperCase().padStart(2, "0")}`).join("");
  return `${param}="${fallback}"; ${param}*=UTF-8''${enc}`;
}

/** base64Lines encodes a file as 76-character base64 lines, read B64_CHUNK bytes at a time. */
async function base64Lines(f: Blob): Promise<string[]> {
  const out: string[] = [];
  for (let off = 0; off < f.size; off += B64_CHUNK) {
    const s = b64(new Uint8Array(await f.slice(off, off + B64_CHUNK).arrayBuffer()));
    for (let i = 0; i < s.length; i += 76) out.push(s.slice(i, i + 76) + "\r\n");
  }
  return out;
}

/** buildDraft returns the RFC 5322 message of d: text/plain alone, or multipart/mixed with the files (base64). */
export async function buildDraft(d: DraftInput): Promise<Blob> {
  const date = (d.date ?? new Date()).toUTCString().replace("GMT", "+0000");
  const rnd = (): string => Math.random().toString(36).slice(2, 12);
  const head = [
    ...(d.from ? [`From: ${addressList(d.from)}`] : []),
    ...(d.to.trim() ? [`To: ${addressList(d.to)}`] : []),
    `Subject: ${encodedWord(d.subject)}`,
    `Date: ${date}`,
    `Message-ID: <${rnd()}.${Date.now()}@imapbridge.demo>`,
    "MIME-Version: 1.0",
  ];
  const text = ["Content-Type: text/plain; charset=utf-8", "Content-Transfer-Encoding: base64", "",
    ...(b64(new TextEncoder().encode(d.text.replace(/\r?\n/g, "\r\n"))).match(/.{1,76}/g) ?? [])].join("\r\n") + "\r\n";
  if (d.files.length === 0) return new Blob([head.join("\r\n") + "\r\n" + text]);
  const b = `=_imapbridge_${rnd()}${rnd()}`;
  const parts: BlobPart[] = [head.join("\r\n") + `\r\nContent-Type: multipart/mixed; boundary="${b}"\r\n\r\n`, `--${b}\r\n`, text];
  for (const f of d.files) {
    const type = /^[\w.+-]+\/[\w.+-]+$/.test(f.type) ? f.type : "application/octet-stream";
    parts.push(`--${b}\r\nContent-Type: ${type}; ${filenameParams("name", f.name)}\r\nContent-Transfer-Encoding: base64\r\n` +
      `Content-Disposition: attachment; ${filenameParams("filename", f.name)}\r\n\r\n`, ...await base64Lines(f));
  }
  parts.push(`--${b}--\r\n`);
  return new Blob(parts);
}

/** Composer is the draft dialog opened by the topbar's "New draft" button (data-testid="compose"). */
export class Composer {
  private readonly client: Client;
  private readonly draftsFolder: () => string;
  private readonly notify: (text: string, error: boolean) => void;
  private box: HTMLElement | undefined;

  /** Creates a composer; draftsFolder names the folder to save to; notify reports the outcome. */
  constructor(client: Client, draftsFolder: () => string, notify: (text: string, error: boolean) => void) {
    this.client = client;
    this.draftsFolder = draftsFolder;
    this.notify = notify;
  }

  /** mount adds the "New draft" button just before the element next. */
  mount(next: Element): void {
    const b = el("button", "btn", undefined, "compose");
    b.type = "button";
    b.append(icon("draft"), el("span", "label", "New draft"));
    b.addEventListener("click", () => this.open());
    next.before(b);
  }

  /** open shows an empty composer (or keeps the open one). */
  open(): void {
    if (this.box !== undefined) return;
    const box = el("form", "composer", undefined, "composer");
    box.setAttribute("aria-label", "New draft");
    const title = el("div", "composer-title");
    const x = el("button", "btn", "Close", "composer-close");
    x.type = "button";
    x.addEventListener("click", () => this.close());
    title.append(el("span", "", "New draft"), x);
    const input = (testid: string, placeholder: string): HTMLInputElement => {
      const i = el("input", "", undefined, testid);
      i.type = "text";
      i.placeholder = placeholder;
      i.setAttribute("aria-label", placeholder);
      return i;
    };
    const to = input("draft-to", "To");
    const subj = input("draft-subject", "Subject");
    const text = el("textarea", "", undefined, "draft-body");
    text.setAttribute("aria-label", "Message");
    const files = el("input", "", undefined, "draft-files");
    files.type = "file";
    files.multiple = true;
    files.setAttribute("aria-label", "Attach files");
    const list = el("ul", "composer-files", undefined, "draft-file-list");
    files.addEventListener("change", () => {
      list.replaceChildren(...Array.from(files.files ?? [], (f) => el("li", "", `${f.name} (${size(f.size)})`)));
    });
    const status = el("span", "composer-status", "", "draft-status");
    const save = el("button", "btn", undefined, "save-draft");
    save.type = "submit";
    save.append(icon("draft"), el("span", "label", "Save as draft"));
    const actions = el("div", "composer-actions");
    actions.append(files, el("span", "spacer"), status, save);
    box.append(title, to, subj, text, list, actions);
    box.addEventListener("submit", (ev) => {
      ev.preventDefault();
      save.disabled = true;
      status.textContent = "Saving…";
      status.dataset["state"] = "saving";
      void this.save({ to: to.value, subject: subj.value, text: text.value, files: Array.from(files.files ?? []) }).then((ok) => {
        save.disabled = false;
        status.dataset["state"] = ok ? "saved" : "failed";
        status.textContent = ok ? "Saved" : "Not saved";
      });
    });
    document.body.append(box);
    this.box = box;
    to.focus();
  }

  /** close removes the composer. */
  close(): void {
    this.box?.remove();
    this.box = undefined;
  }

  /** save builds and uploads the draft; it reports and returns whether it landed. */
  async save(d: DraftInput): Promise<boolean> {
    const folder = this.draftsFolder();
    try {
      const msg = await buildDraft(d);
      const name = d.subject.trim() || "draft";
      const put = (): Promise<{ uid?: number }> => progressBars.track(name, "Saving", (p) =>
        uploadMessage(this.client, location.origin, folder, msg, { flags: ["\\Draft", "\\Seen"], onProgress: p }));
      let r: { uid?: number };
      try {
        r = await put();
      } catch (e) {
        // No Drafts folder yet (the server says TRYCREATE): make it, then save again.
        if (!(e instanceof TransferError && e.status === 422 && e.message.includes("[TRYCREATE]"))) throw e;
        await this.client.create(folder);
        r = await put();
      }
      this.notify(`Draft saved to ${folder}${r.uid !== undefined ? ` (UID ${r.uid})` : ""}`, false);
      if (this.box !== undefined) this.box.dataset["uid"] = String(r.uid ?? "");
      return true;
    } catch (e) {
      this.notify(`Could not save the draft: ${e instanceof Error ? e.message : String(e)}`, true);
      return false;
    }
  }
}
