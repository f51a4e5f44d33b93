/**
 * Multi-select in the message list: a checkbox on every row (shift-click
 * for a range, "x" for the open message, Escape to clear) and, while any
 * row is picked, a bulk bar over the list: read, unread, flag, unflag, move
 * and delete for all of them at once.
 */
import { el, icon } from "./dom.js";

/** BulkActions are what the bar asks the app to do with the picked UIDs. */
export interface BulkActions {
  flag(uids: number[], flag: "seen" | "flagged", on: boolean): void;
  move(uids: number[], to: string): void;
  remove(uids: number[]): void;
  /** targets are the mailboxes a move may go to (not the open one). */
  targets(): string[];
  /** order is the list's UIDs in display order (for shift-click ranges). */
  order(): number[];
  /** refresh redraws the rows of uids (their checkbox state). */
  refresh(uids: number[]): void;
}

/** Selection is the set of picked rows and the bulk bar that acts on them. */
export class Selection {
  private readonly picked = new Set<number>();
  private readonly bar = el("div", "bulkbar", undefined, "bulk-bar");
  private readonly count = el("span", "bulk-count", "", "bulk-count");
  private readonly target = el("select", "move-target", undefined, "bulk-move-target");
  private anchor: number | undefined;

  /** Creates the bar as the first child of host (the list column). */
  constructor(host: HTMLElement, private readonly actions: BulkActions) {
    const b = (testid: string, ic: Parameters<typeof icon>[0], label: string, fn: () => void, cls = "btn") => {
      const x = el("button", cls, undefined, testid);
      x.type = "button";
      x.title = label;
      x.append(icon(ic), el("span", "label", label));
      x.addEventListener("click", fn);
      return x;
    };
    const all = () => [...this.picked];
    this.target.setAttribute("aria-label", "Move the selected messages to");
    this.target.addEventListener("change", () => {
      if (this.target.value !== "") actions.move(all(), this.target.value);
      this.target.value = "";
    });
    const clear = el("button", "btn bulk-clear", "×", "bulk-clear");
    clear.type = "button";
    clear.title = "Clear the selection (Escape)";
    clear.addEventListener("click", () => this.clear());
    this.bar.append(clear, this.count,
      b("bulk-read", "mailOpen", "Read", () => actions.flag(all(), "seen", true)),
      b("bulk-unread", "mail", "Unread", () => actions.flag(all(), "seen", false)),
      b("bulk-flag", "star", "Flag", () => actions.flag(all(), "flagged", true)),
      b("bulk-unflag", "star", "Unflag", () => actions.flag(all(), "flagged", false)),
      this.target,
      b("bulk-delete", "trash", "Delete", () => actions.remove(all()), "btn danger"));
    this.bar.hidden = true;
    host.prepend(this.bar);
  }

  /** size is the number of picked rows. */
  get size(): number {
    return this.picked.size;
  }

  /** uids are the picked rows. */
  uids(): number[] {
    return [...this.picked];
  }

  /** has reports whether uid is picked. */
  has(uid: number): boolean {
    return this.picked.has(uid);
  }

  /** checkbox returns the row checkbox of uid. */
  checkbox(uid: number): HTMLInputElement {
    const c = el("input", "row-pick", undefined, "row-pick");
    c.type = "checkbox";
    c.setAttribute("aria-label", "Select");
    c.checked = this.picked.has(uid);
    c.addEventListener("click", (ev) => {
      ev.stopPropagation();
      if (ev.shiftKey && this.anchor !== undefined) this.range(this.anchor, uid, c.checked);
      else this.set([uid], c.checked);
      this.anchor = uid;
    });
    return c;
  }

  /** toggle picks or unpicks uid. */
  toggle(uid: number): void {
    this.set([uid], !this.picked.has(uid));
    this.anchor = uid;
  }

  /** clear unpicks everything. */
  clear(): void {
    this.set(this.uids(), false);
  }

  /** keep drops picked UIDs that are no longer listed (moved, deleted, expunged elsewhere). */
  keep(listed: ReadonlySet<number>): void {
    const gone = this.uids().filter((u) => !listed.has(u));
    if (gone.length > 0) this.set(gone, false);
  }

  private range(from: number, to: number, on: boolean): void {
    const order = this.actions.order();
    const a = order.indexOf(from);
    const b = order.indexOf(to);
    if (a < 0 || b < 0) return this.set([to], on);
    this.set(order.slice(Math.min(a, b), Math.max(a, b) + 1), on);
  }

  private set(uids: number[], on: boolean): void {
    for (const u of uids) {
      if (on) this.picked.add(u);
      else this.picked.delete(u);
    }
    this.actions.refresh(uids);
    this.render();
  }

  private render(): void {
    const n = this.picked.size;
    this.bar.hidden = n === 0;
    document.body.classList.toggle("picking", n > 0);
    this.count.textContent = `${n.toLocaleString()} selected`;
    const ph = el("option", "", "Move to…");
    ph.value = "";
    ph.disabled = true;
    ph.selected = true;
    this.target.replaceChildren(ph, ...this.actions.targets().map((t) => {
      const o = el("option", "", t);
      o.value = t;
      return o;
    }));
  }
}
