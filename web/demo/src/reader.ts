/**
 * The message view: header, actions (read/unread, flag, move, delete) and
 * the body in a sandboxed iframe; remote images wait for the reader's click.
 */
import type { Client, ViewMessage } from "../../sdk/src/index.js";
import { el, icon } from "./dom.js";
import type { Folder } from "./folders.js";
import { FLAGGED, SEEN, fullAddress, hasFlag, longDate, messageDate, subject } from "./format.js";
import { MAX_BODY_BYTES, choose, decodePart } from "./mime.js";
import { hasRemoteImages, htmlDoc, textDoc } from "./srcdoc.js";
import { hideInline, inlineImages, showChips } from "./attachments.js";

/** ReaderActions are the changes the message view asks the app for. */
export interface ReaderActions {
  toggleSeen(uid: number): void;
  toggleFlag(uid: number): void;
  remove(uid: number): void;
  move(uid: number, to: string): void;
  /** error reports a failure (a download) to the person. */
  error?(text: string): void;
  /** extra returns more toolbar buttons for m (compose.ts: Reply, Reply all, Forward). */
  extra?(m: ViewMessage, mailbox: string): HTMLElement[];
}

/** Reader shows one message inside its host element. */
export class Reader {
  private readonly host: HTMLElement;
  private readonly client: Client;
  private readonly actions: ReaderActions;
  private uid: number | undefined;
  private loadSeq = 0;
  private seenBtn: HTMLButtonElement | undefined;
  private flagBtn: HTMLButtonElement | undefined;

  /** Creates a reader rendering into host. */
  constructor(host: HTMLElement, client: Client, actions: ReaderActions) {
    this.host = host;
    this.client = client;
    this.actions = actions;
    this.clear();
  }

  /** current is the UID shown, if any. */
  get current(): number | undefined {
    return this.uid;
  }

  /** clear shows the empty state. */
  clear(): void {
    this.uid = undefined;
    this.loadSeq++;
    const empty = el("div", "empty");
    empty.append(icon("mail", "empty-icon"), el("p", "", "Select a message to read it"));
    this.host.replaceChildren(empty);
  }

  /** show opens m of mailbox; folders fill the move target list. */
  show(m: ViewMessage, mailbox: string, folders: readonly Folder[]): void {
    this.uid = m.uid;
    const seq = ++this.loadSeq;
    const view = el("article", "message-view", undefined, "message-view");
    view.dataset["uid"] = String(m.uid);

    const bar = el("div", "toolbar");
    this.seenBtn = this.button("toggle-seen", "mailOpen", "", () => this.actions.toggleSeen(m.uid));
    this.flagBtn = this.button("toggle-flag", "star", "", () => this.actions.toggleFlag(m.uid));
    const del = this.button("delete", "trash", "Delete", () => this.actions.remove(m.uid));
    del.classList.add("danger");
    const target = el("select", "move-target", undefined, "move-target");
    target.setAttribute("aria-label", "Move to folder");
    const placeholder = el("option", "", "Move to…");
    placeholder.value = "";
    placeholder.disabled = true;
    placeholder.selected = true;
    target.append(placeholder);
    for (const f of folders) {
      if (f.name === mailbox || !f.selectable) continue;
      const o = el("option", "", f.name);
      o.value = f.name;
      target.append(o);
    }
    const move = this.button("move", "move", "Move", () => {
      if (target.value !== "") this.actions.move(m.uid, target.value);
    });
    move.disabled = target.options.length <= 1;
    const moveGroup = el("div", "move-group");
    moveGroup.append(target, move);
    bar.append(...(this.actions.extra?.(m, mailbox) ?? []), this.seenBtn, this.flagBtn, moveGroup, del);

    const head = el("header", "message-head");
    const from = m.envelope?.from ?? [];
    const to = m.envelope?.to ?? [];
    head.append(
      el("h2", "message-subject", subject(m), "message-subject"),
      this.line("From", from.map(fullAddress).join(", ") || "(unknown sender)", "message-from"),
      ...(to.length > 0 ? [this.line("To", to.map(fullAddress).join(", "))] : []),
      this.line("Date", longDate(messageDate(m))),
    );

    const images = el("div", "images-banner");
    images.hidden = true;
    const load = this.button("load-images", "image", "Load remote images", () => undefined);
    load.hidden = true;
    images.append(el("span", "", "Remote images are blocked to protect your privacy."), load);

    const frame = el("iframe", "message-body", undefined, "message-body");
    frame.setAttribute("sandbox", "");
    frame.setAttribute("referrerpolicy", "no-referrer");
    frame.title = "Message body";
    const files = el("ul", "attachments");
    files.hidden = true;

    view.append(bar, head, images, frame, files);
    this.host.replaceChildren(view);
    this.update(m);
    void this.loadBody(seq, m.uid, mailbox, frame, images, load, files);
  }

  /** update refreshes the action buttons for m's flags (if m is shown). */
  update(m: ViewMessage): void {
    if (m.uid !== this.uid) return;
    const seen = hasFlag(m.flags, SEEN);
    const flagged = hasFlag(m.flags, FLAGGED);
    this.setLabel(this.seenBtn, seen ? "Mark unread" : "Mark read");
    this.setLabel(this.flagBtn, flagged ? "Unflag" : "Flag");
    this.flagBtn?.classList.toggle("on", flagged);
    this.flagBtn?.setAttribute("aria-pressed", String(flagged));
  }

  private setLabel(b: HTMLButtonElement | undefined, text: string): void {
    const label = b?.querySelector(".label");
    if (label && label.textContent !== text) label.textContent = text;
  }

  private button(testid: string, ic: Parameters<typeof icon>[0], text: string, onClick: () => void): HTMLButtonElement {
    const b = el("button", "btn", undefined, testid);
    b.type = "button";
    b.append(icon(ic), el("span", "label", text));
    b.addEventListener("click", onClick);
    return b;
  }

  private line(label: string, value: string, testid?: string): HTMLElement {
    const p = el("div", "meta");
    p.append(el("span", "meta-label", label), el("span", "meta-value", value, testid));
    return p;
  }

  private async loadBody(
    seq: number, uid: number, mailbox: string, frame: HTMLIFrameElement, banner: HTMLElement, load: HTMLButtonElement, files: HTMLUListElement,
  ): Promise<void> {
    const stale = (): boolean => seq !== this.loadSeq;
    try {
      const s = await this.client.fetch({ uids: String(uid) }, { items: ["uid", "bodystructure"] });
      const bs = s.messages.find((x) => x.uid === uid)?.bodyStructure;
      if (stale()) return;
      if (bs === undefined) {
        frame.srcdoc = textDoc("(this message has no readable body)");
        return;
      }
      const parts = choose(bs);
      showChips(files, this.client, { mailbox, uid }, parts.attachments, (t) => this.actions.error?.(t));
      const pick = parts.html ?? parts.text;
      if (pick === undefined) {
        frame.srcdoc = textDoc("(this message has no text part)");
        return;
      }
      const f = await this.client.fetch({ uids: String(uid) },
        { body: [{ section: pick.section, peek: true, partial: { offset: 0, length: MAX_BODY_BYTES } }] });
      if (stale()) return;
      const part = f.messages.find((x) => x.uid === uid)?.body?.[0];
      let body = part === undefined ? "" : decodePart(part, pick);
      if (pick !== parts.html) {
        frame.srcdoc = textDoc(body);
        return;
      }
      frame.srcdoc = htmlDoc(body, false);
      if (/\bcid:/i.test(body)) {
        const inl = await inlineImages(this.client, { mailbox, uid }, body);
        if (stale()) return;
        body = inl.html;
        hideInline(files, inl.cids);
        frame.srcdoc = htmlDoc(body, false);
      }
      if (hasRemoteImages(body)) {
        banner.hidden = false;
        load.hidden = false;
        load.addEventListener("click", () => {
          frame.srcdoc = htmlDoc(body, true);
          banner.hidden = true;
          load.hidden = true;
        }, { once: true });
      }
    } catch (e) {
      if (!stale()) frame.srcdoc = textDoc(`The message could not be loaded: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
}
