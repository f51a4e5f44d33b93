/**
 * The compose window: From, To, Cc, Bcc (addresses validated as typed),
 * Subject, text, attachments uploaded with progress (one-part messages in
 * Drafts, attached by reference), Send through the bridge's SMTP submission
 * (@imapbridge/sdk/compose), a draft saved every few seconds while editing
 * (each save replaces the previous one), and Reply, Reply all and Forward
 * from the message view. The bridge builds the MIME message and checks the
 * sender; a refused recipient is shown alone.
 */
import type { Client, ViewMessage } from "../../sdk/src/index.js";
import { uploadMessage } from "../../sdk/src/transfers.js";
import {
  attachmentMessage, forward, parseAddresses, reply, saveDraft, submit,
  type AttachmentRef, type Compose, type MailAddress, type MessageRef, type Original,
} from "../../sdk/src/compose.js";
import { progressBars } from "./attachments.js";
import { el, icon } from "./dom.js";

/** AUTOSAVE_MS is the quiet time after an edit before the draft is saved. */
export const AUTOSAVE_MS = 3000;
/** FROM_KEY remembers the last From address in localStorage. */
export const FROM_KEY = "imapbridge.demo.from";

/** ComposeHost is what the window needs from the app. */
export interface ComposeHost {
  readonly client: Client;
  /** user is the signed-in IMAP user (a From default when it is an address). */
  user(): string;
  /** draftsFolder names the folder for drafts and staged attachments. */
  draftsFolder(): string;
  /** notify reports an outcome (a toast); refresh reloads the folder list. */
  notify(text: string, error: boolean): void;
  refresh(): void;
}

type Field = "from" | "to" | "cc" | "bcc";

/** ComposeWindow is the one compose window of the page. */
export class ComposeWindow {
  private readonly host: ComposeHost;
  private box: HTMLFormElement | undefined;
  private inputs: Partial<Record<Field | "subject", HTMLInputElement>> = {};
  private body: HTMLTextAreaElement | undefined;
  private status: HTMLElement | undefined;
  private fileList: HTMLUListElement | undefined;
  private base: Compose | undefined; // threading, original, forwarded attachments
  private attachments: AttachmentRef[] = [];
  private uploads: Promise<void>[] = [];
  private draft: MessageRef | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private saving: Promise<void> = Promise.resolve();
  private dirty = false;
  private sending = false;

  /** Creates the window (closed). */
  constructor(host: ComposeHost) {
    this.host = host;
  }

  /** mount adds the "Compose" button before next. */
  mount(next: Element): void {
    const b = el("button", "btn primary", undefined, "compose-open");
    b.type = "button";
    b.append(icon("send"), el("span", "label", "Compose"));
    b.addEventListener("click", () => this.open({ from: this.me() }));
    next.before(b);
  }

  /** buttons are Reply, Reply all and Forward for the message view's toolbar. */
  buttons(m: ViewMessage, mailbox: string): HTMLElement[] {
    const orig = (): Original => ({ mailbox, uid: m.uid,
      envelope: m.envelope ?? { subject: "", from: [], sender: [], replyTo: [], to: [], cc: [], bcc: [] } });
    const b = (testid: string, label: string, f: () => Compose): HTMLElement => {
      const x = el("button", "btn", label, testid);
      x.type = "button";
      x.addEventListener("click", () => this.open(f()));
      return x;
    };
    return [
      b("reply", "Reply", () => reply(orig(), this.me())),
      b("reply-all", "Reply all", () => reply(orig(), this.me(), true)),
      b("forward", "Forward", () => forward(orig(), this.me(), (m.bodyStructure ? attachmentsOf(m.bodyStructure) : [])
        .map((p) => ({ mailbox, uid: m.uid, part: p.part, filename: p.name })))),
    ];
  }

  private me(): MailAddress {
    const saved = localStorage.getItem(FROM_KEY) ?? "";
    const u = this.host.user();
    return { email: saved !== "" ? saved : u.includes("@") ? u : "" };
  }

  /** open shows the window filled from c (an open window is replaced). */
  open(c: Compose): void {
    this.close();
    this.base = c;
    this.attachments = [...(c.attachments ?? [])];
    this.draft = undefined;
    this.dirty = false;
    const box = el("form", "composer compose-window", undefined, "compose-window");
    box.setAttribute("aria-label", "New message");
    box.noValidate = true;
    const title = el("div", "composer-title");
    const x = el("button", "btn", "Close", "compose-close");
    x.type = "button";
    x.addEventListener("click", () => void this.closeSaving());
    title.append(el("span", "", c.original?.action === "reply" ? "Reply" : c.original?.action === "forward" ? "Forward" : "New message"), x);
    const line = (f: Field | "subject", label: string, value: string): HTMLElement => {
      const i = el("input", "", undefined, `compose-${f}`);
      i.type = "text";
      i.placeholder = label;
      i.setAttribute("aria-label", label);
      i.value = value;
      i.addEventListener("input", () => this.edited());
      if (f !== "subject") i.addEventListener("blur", () => this.validate(f));
      this.inputs[f] = i;
      return i;
    };
    const fmt = (l: readonly MailAddress[] | undefined): string => (l ?? []).map((a) => (a.name ? `${a.name} <${a.email}>` : a.email)).join(", ");
    const body = el("textarea", "", undefined, "compose-body");
    body.setAttribute("aria-label", "Message");
    body.value = c.text ?? "";
    body.addEventListener("input", () => this.edited());
    this.body = body;
    const files = el("input", "", undefined, "compose-files");
    files.type = "file";
    files.multiple = true;
    files.setAttribute("aria-label", "Attach files");
    files.addEventListener("change", () => {
      for (const f of Array.from(files.files ?? [])) this.attach(f);
      files.value = "";
    });
    this.fileList = el("ul", "composer-files", undefined, "compose-file-list");
    this.status = el("span", "composer-status", "", "compose-status");
    const send = el("button", "btn primary", undefined, "compose-send");
    send.type = "submit";
    send.append(icon("send"), el("span", "label", "Send"));
    const save = el("button", "btn", "Save draft", "compose-save");
    save.type = "button";
    save.addEventListener("click", () => void this.save(true));
    const actions = el("div", "composer-actions");
    actions.append(files, el("span", "spacer"), this.status, save, send);
    box.append(title, line("from", "From", c.from.email), line("to", "To", fmt(c.to)), line("cc", "Cc", fmt(c.cc)),
      line("bcc", "Bcc", fmt(c.bcc)), line("subject", "Subject", c.subject ?? ""), body, this.fileList, actions);
    box.addEventListener("submit", (ev) => {
      ev.preventDefault();
      void this.send();
    });
    document.body.append(box);
    this.box = box;
    this.renderFiles();
    (c.to === undefined || c.to.length === 0 ? this.inputs.to : body)?.focus();
  }

  /** close drops the window without saving. */
  close(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.box?.remove();
    this.box = undefined;
    this.inputs = {};
  }

  private async closeSaving(): Promise<void> {
    if (this.dirty && !this.sending) await this.save(false);
    this.close();
  }

  private edited(): void {
    this.dirty = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.save(false), AUTOSAVE_MS);
  }

  private say(text: string, error = false): void {
    if (this.status === undefined) return;
    this.status.textContent = text;
    this.status.classList.toggle("error", error);
  }

  /** validate marks a field whose addresses do not parse; it returns them, or undefined. */
  private validate(f: Field): MailAddress[] | undefined {
    const i = this.inputs[f];
    if (i === undefined) return [];
    const { addresses, invalid } = parseAddresses(i.value);
    i.classList.toggle("invalid", invalid.length > 0);
    i.setAttribute("aria-invalid", String(invalid.length > 0));
    if (invalid.length > 0) {
      this.say(`Not an address: ${invalid.join(", ")}`, true);
      return undefined;
    }
    return addresses;
  }

  private attach(f: File): void {
    const folder = this.host.draftsFolder();
    const up = (async () => {
      const msg = await attachmentMessage(f, f.name);
      // Staged as a deleted, seen one-part message: the sent message and the
      // draft embed a copy, so it is never shown as a draft of its own.
      const r = await progressBars.track(f.name, "Uploading", (p) =>
        uploadMessage(this.host.client, location.origin, folder, msg, { flags: ["\\Seen", "\\Deleted"], onProgress: p }));
      if (r.uid === undefined) throw new Error("the server did not say where the upload went (no UIDPLUS)");
      this.attachments.push({ mailbox: folder, uid: r.uid, ...(r.uidValidity !== undefined ? { uidValidity: r.uidValidity } : {}),
        part: "1", filename: f.name, ...(f.type !== "" ? { contentType: f.type } : {}) });
      this.renderFiles();
      this.edited();
    })().catch((e: unknown) => this.say(`Upload of ${f.name} failed: ${(e as Error).message}`, true));
    this.uploads.push(up);
  }

  private renderFiles(): void {
    this.fileList?.replaceChildren(...this.attachments.map((a, i) => {
      const li = el("li", "", a.filename ?? `part ${a.part}`, "compose-file");
      const rm = el("button", "btn", "×");
      rm.type = "button";
      rm.setAttribute("aria-label", `Remove ${a.filename ?? "attachment"}`);
      rm.addEventListener("click", () => {
        this.attachments.splice(i, 1);
        this.renderFiles();
        this.edited();
      });
      li.append(rm);
      return li;
    }));
  }

  /** message is the window's content as a request, or undefined when a field is invalid. */
  private message(): Compose | undefined {
    const from = this.validate("from");
    const to = this.validate("to");
    const cc = this.validate("cc");
    const bcc = this.validate("bcc");
    if (from === undefined || to === undefined || cc === undefined || bcc === undefined) return undefined;
    if (from.length !== 1) {
      this.say("From needs exactly one address", true);
      return undefined;
    }
    const { to: _t, cc: _c, bcc: _b, ...base } = this.base ?? { from: from[0] as MailAddress };
    return {
      ...base, from: from[0] as MailAddress, to, cc, bcc, subject: this.inputs.subject?.value ?? "", text: this.body?.value ?? "",
      attachments: this.attachments, ...(this.draft !== undefined ? { draft: this.draft } : {}),
    };
  }

  /** save stores the window as a draft, replacing the previous save. */
  private save(shout: boolean): Promise<void> {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.saving = this.saving.then(async () => {
      if (this.box === undefined || this.sending) return;
      const m = this.message();
      if (m === undefined) return;
      const { original: _o, ...draft } = m; // flags on the original wait for the send
      try {
        const r = await saveDraft(this.host.client, draft);
        if (r.draft.uid !== undefined) this.draft = { mailbox: r.draft.mailbox, uid: r.draft.uid, ...(r.draft.uidValidity ? { uidValidity: r.draft.uidValidity } : {}) };
        this.dirty = false;
        this.say(`Draft saved ${new Date().toLocaleTimeString()}`);
        if (shout) this.host.notify("Draft saved", false);
      } catch (e) {
        this.say(`Draft not saved: ${(e as Error).message}`, true);
      }
    });
    return this.saving;
  }

  /** send waits for uploads and a pending save, then submits. */
  async send(): Promise<void> {
    const m = this.message();
    if (m === undefined) return;
    if ((m.to?.length ?? 0) + (m.cc?.length ?? 0) + (m.bcc?.length ?? 0) === 0) {
      this.say("Add a recipient", true);
      this.inputs.to?.focus();
      return;
    }
    this.sending = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.say("Sending…");
    try {
      await Promise.all(this.uploads);
      await this.saving;
      const r = await submit(this.host.client, { ...m, attachments: this.attachments, ...(this.draft ? { draft: this.draft } : {}) });
      localStorage.setItem(FROM_KEY, m.from.email);
      const refused = r.refused.map((x) => `${x.email} (${x.code} ${x.enhanced ?? ""} ${x.message})`.replace(/\s+/g, " "));
      this.close();
      this.host.notify(refused.length > 0 ? `Sent to ${r.accepted.length}; refused: ${refused.join("; ")}` :
        r.sentError !== undefined ? `Sent (${r.sentError})` : `Sent to ${r.accepted.join(", ")}`, refused.length > 0);
      this.host.refresh();
    } catch (e) {
      this.say(`Not sent: ${(e as Error).message}`, true);
    } finally {
      this.sending = false;
    }
  }
}

interface PartRef { readonly part: string; readonly name: string }

/** attachmentsOf lists the parts of a body structure that are attachments (a forward keeps them). */
function attachmentsOf(bs: NonNullable<ViewMessage["bodyStructure"]>): PartRef[] {
  const out: PartRef[] = [];
  const walk = (p: NonNullable<ViewMessage["bodyStructure"]>): void => {
    const name = p.dispositionParams?.["filename"] ?? p.params?.["name"];
    if (p.disposition?.toLowerCase() === "attachment" && p.part !== "" && p.part !== undefined) {
      out.push({ part: p.part, name: name ?? `part-${p.part}` });
    }
    for (const c of p.parts ?? []) walk(c);
  };
  walk(bs);
  return out;
}
