/**
 * The list's search box, sort menu and conversation toggle (issue 16), on
 * @imapbridge/sdk/find: a server-side search (find: TEXT, so subject,
 * addresses and body), a server-side sort (SORT, or the bridge's fallback)
 * and threads (THREAD REFERENCES, or the fallback) — the list shows what
 * the server answered, in the virtual list; matches in the sender and
 * subject are highlighted where the text holds the query.
 */
import type { Client } from "../../sdk/src/index.js";
import { find, sort, thread, threadUids, type SortKey } from "../../sdk/src/find.js";
import { el } from "./dom.js";

/** SORTS are the sort menu's entries: "" is the list's own order (newest UID first). */
const SORTS: readonly { readonly value: string; readonly label: string; readonly keys?: SortKey[] }[] = [
  { value: "", label: "Newest first" },
  { value: "date-asc", label: "Oldest first", keys: [{ key: "date" }] },
  { value: "date-desc", label: "By date (sent)", keys: [{ key: "date", reverse: true }] },
  { value: "from", label: "By sender", keys: [{ key: "from" }, { key: "date", reverse: true }] },
  { value: "subject", label: "By subject", keys: [{ key: "subject" }, { key: "date", reverse: true }] },
  { value: "size", label: "Largest first", keys: [{ key: "size", reverse: true }] },
];

/** FindBar holds the search, sort and conversation state of the open mailbox. */
export class FindBar {
  /** query is the search text that produced the current matches ("" for none). */
  query = "";
  private matches: Set<number> | undefined;
  private order: number[] | undefined;
  private threads: Map<number, number> | undefined; // representative UID → thread size
  private members: Map<number, number> | undefined; // every threaded UID → its representative
  private readonly input: HTMLInputElement;
  private readonly sortMenu: HTMLSelectElement;
  private readonly convo: HTMLInputElement;
  private readonly note: HTMLElement;
  private gen = 0;

  constructor(host: HTMLElement, private readonly client: Client, private readonly rerender: () => void, private readonly error: (text: string) => void) {
    const form = el("form", "findbar");
    form.setAttribute("role", "search");
    this.input = el("input", "find-input", undefined, "search-input");
    this.input.type = "search";
    this.input.placeholder = "Search mail";
    this.input.setAttribute("aria-label", "Search mail (subject, addresses, body)");
    this.sortMenu = el("select", "sort-menu", undefined, "sort-menu");
    this.sortMenu.setAttribute("aria-label", "Sort");
    for (const s of SORTS) {
      const o = el("option", undefined, s.label);
      o.value = s.value;
      this.sortMenu.append(o);
    }
    const label = el("label", "convo-toggle");
    this.convo = el("input", undefined, undefined, "conversation-toggle");
    this.convo.type = "checkbox";
    label.append(this.convo, " Conversations");
    this.note = el("span", "find-note", "", "search-note");
    form.append(this.input, this.sortMenu, label, this.note);
    form.addEventListener("submit", (ev) => {
      ev.preventDefault();
      void this.search();
    });
    this.input.addEventListener("search", () => { if (this.input.value === "") void this.search(); });
    this.sortMenu.addEventListener("change", () => void this.resort());
    this.convo.addEventListener("change", () => void this.rethread());
    host.after(form);
  }

  /** reset forgets everything of the previous mailbox. */
  reset(): void {
    this.gen++;
    this.query = "";
    this.input.value = "";
    this.matches = this.order = this.threads = this.members = undefined;
    this.note.textContent = "";
    this.sortMenu.value = "";
    this.convo.checked = false;
  }

  /** refresh re-runs what is active (after new mail or a reconnect). */
  refresh(): void {
    if (this.query !== "") void this.search();
    if (this.sortMenu.value !== "") void this.resort();
    if (this.convo.checked) void this.rethread();
  }

  /** apply turns the list's UIDs (newest first) into what the list shows. */
  apply(uids: number[]): number[] {
    let out = this.matches === undefined ? uids : uids.filter((u) => this.matches?.has(u));
    if (this.order !== undefined) {
      const rank = new Map(this.order.map((u, i) => [u, i]));
      const known = out.filter((u) => rank.has(u)).sort((a, b) => (rank.get(a) ?? 0) - (rank.get(b) ?? 0));
      out = [...out.filter((u) => !rank.has(u)), ...known]; // new arrivals the sort has not seen first
    }
    if (this.threads !== undefined && this.members !== undefined) {
      const shown = new Set<number>();
      const rows: number[] = [];
      for (const u of out) {
        const rep = this.members.get(u) ?? u;
        if (shown.has(rep)) continue;
        shown.add(rep);
        rows.push(rep);
      }
      out = rows;
    }
    return out;
  }

  /** decorate marks a row with its thread size and highlights the query in sender and subject. */
  decorate(row: HTMLElement, uid: number): void {
    const size = this.threads?.get(uid);
    const want = size !== undefined && size > 1 ? String(size) : "";
    if ((row.dataset["threadSize"] ?? "") !== want) {
      if (want === "") delete row.dataset["threadSize"];
      else row.dataset["threadSize"] = want;
      let badge = row.querySelector<HTMLElement>(".thread-size");
      if (want !== "" && badge === null) {
        badge = el("span", "thread-size", "", "thread-size");
        row.querySelector(".row-subject")?.before(badge);
      }
      if (badge !== null) badge.textContent = want;
    }
    for (const cls of ["row-from", "row-subject"]) {
      const span = row.querySelector<HTMLElement>("." + cls);
      if (span !== null) highlight(span, this.query);
    }
  }

  private async search(): Promise<void> {
    const q = this.input.value.trim();
    const gen = this.gen;
    if (q === "") {
      this.query = "";
      this.matches = undefined;
      this.note.textContent = "";
      this.rerender();
      return;
    }
    try {
      const r = await find(this.client, { text: [q] });
      if (gen !== this.gen) return;
      this.query = q;
      this.matches = new Set(expand(r.uids));
      this.note.textContent = `${r.total.toLocaleString()} found`;
    } catch (e) {
      this.error(`Search failed: ${e instanceof Error ? e.message : String(e)}`);
      return;
    }
    this.rerender();
  }

  private async resort(): Promise<void> {
    const gen = this.gen;
    const keys = SORTS.find((s) => s.value === this.sortMenu.value)?.keys;
    if (keys === undefined) {
      this.order = undefined;
      this.rerender();
      return;
    }
    try {
      const r = await sort(this.client, keys);
      if (gen !== this.gen) return;
      this.order = [...r.uids];
    } catch (e) {
      this.error(`Sort failed: ${e instanceof Error ? e.message : String(e)}`);
      return;
    }
    this.rerender();
  }

  private async rethread(): Promise<void> {
    const gen = this.gen;
    if (!this.convo.checked) {
      this.threads = this.members = undefined;
      this.rerender();
      return;
    }
    try {
      const r = await thread(this.client, { reverse: true });
      if (gen !== this.gen) return;
      this.threads = new Map();
      this.members = new Map();
      for (const t of r.threads) {
        const uids = threadUids(t);
        const rep = Math.max(...uids);
        this.threads.set(rep, uids.length);
        for (const u of uids) this.members.set(u, rep);
      }
    } catch (e) {
      this.error(`Conversations failed: ${e instanceof Error ? e.message : String(e)}`);
      return;
    }
    this.rerender();
  }
}

/** expand lists a compact UID set's UIDs. */
export function expand(set: string): number[] {
  const out: number[] = [];
  for (const part of set.split(",")) {
    if (part === "") continue;
    const [a, b] = part.split(":").map(Number);
    if (a === undefined || !Number.isFinite(a)) continue;
    for (let u = a; u <= (b ?? a); u++) out.push(u);
  }
  return out;
}

/** highlight wraps the first case-insensitive occurrence of q in span's text in <mark> (DOM nodes, never HTML). */
function highlight(span: HTMLElement, q: string): void {
  const text = span.textContent ?? "";
  const i = q === "" ? -1 : text.toLowerCase().indexOf(q.toLowerCase());
  const marked = span.querySelector("mark");
  if (i < 0) {
    if (marked !== null) span.textContent = text;
    return;
  }
  if (marked !== null && marked.textContent?.toLowerCase() === q.toLowerCase()) return;
  const mark = el("mark", "hit", text.slice(i, i + q.length), "search-hit");
  span.replaceChildren(text.slice(0, i), mark, text.slice(i + q.length));
}
