/**
 * The demo webmail: folders, a virtualised message list, the message view,
 * the new-mail toast and the connection indicator — all on the SDK's public
 * API. Server data reaches the DOM only as text (the message body goes to a
 * sandboxed iframe's srcdoc).
 */
import type { ConnectionEvent, MailboxView, ViewMessage } from "../../sdk/src/index.js";
import { showState } from "./connstate.js";
import { FailureNotice } from "./failure.js";
import { byId, el, icon } from "./dom.js";
import { renderFolder, setUnread, toFolders, trashOf, type Folder, type FolderRow } from "./folders.js";
import { DELETED, FLAGGED, SEEN, hasFlag, messageDate, sender, shortDate, subject } from "./format.js";
import { Reader } from "./reader.js";
import { Composer, DRAFTS_FALLBACK } from "./draft.js";
import { ComposeWindow } from "./compose.js";
import { openSession } from "./session.js";
import { Toast } from "./toast.js";
import { VirtualList } from "./vlist.js";
import { Account } from "./account.js";
import { confirmAction } from "./confirm.js";
import { messageInUrl, setMessageInUrl, setTitle } from "./pagestate.js";
import { Selection } from "./select.js";
import { FindBar } from "./findbar.js";
import { LiveCounts } from "./livecounts.js";

/** FOLDER_REFRESH_MS is how often folder unread counts are refreshed (the open mailbox is live). */
export const FOLDER_REFRESH_MS = 30_000;

const session = openSession((e) => console.warn("imapbridge demo:", e));
const client = session.client;
const folderNav = byId("folders");
const listPane = byId("list");
const titleEl = byId("mailbox-title");
const countEl = byId("mailbox-count");
const toast = new Toast(byId("toast"));

let folders: Folder[] = [];
const folderRows = new Map<string, FolderRow>();
let mailbox = new URLSearchParams(location.search).get("mailbox") ?? "INBOX";
let view: MailboxView | undefined;
let viewReady = false;
/** overrides are flags set by this page and not yet confirmed by an event, by UID. */
const overrides = new Map<number, readonly string[]>();
/** gone are UIDs this page moved or deleted, hidden until the expunge arrives. */
const gone = new Set<number>();

const flagsOf = (m: ViewMessage): readonly string[] => overrides.get(m.uid) ?? m.flags;
const msg = (uid: number): ViewMessage | undefined => view?.messages.get(uid);

/** pendingUid is the message the URL asked for (?msg=), opened once the mailbox is synced. */
let pendingUid = messageInUrl();

// ---- multi-select (select.ts) ----

const selection = new Selection(listPane.parentElement ?? listPane, {
  flag: (uids, f, on) => void setFlags(uids, f === "seen" ? SEEN : FLAGGED, on),
  move: (uids, to) => void moveMessages(uids, to),
  remove: (uids) => void removeMessages(uids),
  targets: () => folders.filter((f) => f.selectable && f.name !== mailbox).map((f) => f.name),
  order: () => visibleUids(),
  refresh: (uids) => { for (const u of uids) list.refresh(u); },
});

// ---- message list ----

const list = new VirtualList<number>(listPane, {
  create(uid) {
    const row = el("div", "row", undefined, "message-row");
    row.dataset["uid"] = String(uid);
    row.setAttribute("role", "option");
    const flag = el("button", "row-flag");
    flag.type = "button";
    flag.title = "Flag";
    flag.append(icon("star"));
    flag.addEventListener("click", (ev) => {
      ev.stopPropagation();
      toggleFlag(uid);
    });
    const m = msg(uid);
    const from = el("span", "row-from", m ? sender(m) : "", "row-from");
    const date = el("span", "row-date", m ? shortDate(messageDate(m)) : "", "row-date");
    const subj = el("span", "row-subject", m ? subject(m) : "", "row-subject");
    const top = el("div", "row-top");
    top.append(el("span", "dot"), from, date);
    const bottom = el("div", "row-bottom");
    bottom.append(subj, flag);
    row.append(selection.checkbox(uid), top, bottom);
    row.addEventListener("click", () => openMessage(uid));
    this.update(uid, row);
    return row;
  },
  update(uid, row) {
    const m = msg(uid);
    if (m === undefined) return;
    const flags = flagsOf(m);
    const seen = String(hasFlag(flags, SEEN));
    const flagged = String(hasFlag(flags, FLAGGED));
    if (row.dataset["seen"] !== seen) row.dataset["seen"] = seen;
    if (row.dataset["flagged"] !== flagged) row.dataset["flagged"] = flagged;
    const picked = selection.has(uid);
    const pick = row.querySelector<HTMLInputElement>("input.row-pick");
    if (pick !== null && pick.checked !== picked) pick.checked = picked;
    row.classList.toggle("picked", picked);
    const selected = reader.current === uid;
    row.classList.toggle("selected", selected);
    row.setAttribute("aria-selected", String(selected));
    findBar.decorate(row, uid);
  },
});

// ---- search, sort, conversations (findbar.ts); live folder counts (livecounts.ts) ----

const findBar = new FindBar(byId("mailbox-count"), client, () => { renderList(); list.refreshAll(); }, (text) => toast.show(text, "error"));
const liveCounts = new LiveCounts(client, (name, unseen) => {
  const row = folderRows.get(name);
  if (row !== undefined && name !== mailbox) setUnread(row.unread, unseen);
});

function visibleUids(): number[] {
  if (view === undefined) return [];
  const out: number[] = [];
  for (const [uid, m] of view.messages) if (!gone.has(uid) && !hasFlag(flagsOf(m), DELETED)) out.push(uid);
  return findBar.apply(out.sort((a, b) => b - a));
}

function renderList(): void {
  const uids = visibleUids();
  list.setKeys(uids);
  let unread = 0;
  for (const uid of uids) {
    const m = msg(uid);
    if (m !== undefined && !hasFlag(flagsOf(m), SEEN)) unread++;
  }
  const row = folderRows.get(mailbox);
  if (row !== undefined) setUnread(row.unread, unread);
  setTitle(titleEl.textContent ?? mailbox, viewReady ? unread : 0);
  selection.keep(new Set(uids));
  countEl.textContent = !viewReady && uids.length === 0 ? "Loading…"
    : `${uids.length.toLocaleString()} message${uids.length === 1 ? "" : "s"}${unread > 0 ? ` · ${unread.toLocaleString()} unread` : ""}`;
  listPane.classList.toggle("is-empty", viewReady && uids.length === 0);
  const cur = reader.current;
  if (cur !== undefined && !uids.includes(cur)) {
    reader.clear();
    setMessageInUrl(undefined);
  }
}

// ---- message view and actions ----

const reader = new Reader(byId("reader"), client, {
  toggleSeen: (uid) => {
    const m = msg(uid);
    if (m) void setFlag(uid, SEEN, !hasFlag(flagsOf(m), SEEN));
  },
  toggleFlag: (uid) => toggleFlag(uid),
  remove: (uid) => void removeMessage(uid),
  move: (uid, to) => void moveMessage(uid, to),
  error: (text) => toast.show(text, "error"),
  extra: (m, mailbox) => compose.buttons(m, mailbox),
});

function toggleFlag(uid: number): void {
  const m = msg(uid);
  if (m) void setFlag(uid, FLAGGED, !hasFlag(flagsOf(m), FLAGGED));
}

async function setFlag(uid: number, flag: string, on: boolean): Promise<void> {
  const m = msg(uid);
  if (m === undefined) return;
  const before = flagsOf(m);
  const after = on ? [...before.filter((f) => !hasFlag([f], flag)), flag] : before.filter((f) => !hasFlag([f], flag));
  overrides.set(uid, after);
  changed(uid);
  renderList();
  try {
    const r = await client.store(String(uid), on ? "add" : "remove", [flag]);
    const confirmed = r.messages.find((x) => x.uid === uid)?.flags;
    if (confirmed !== undefined) overrides.set(uid, confirmed);
  } catch (e) {
    overrides.delete(uid);
    toast.show(`Could not update the message: ${errText(e)}`, "error");
  }
  changed(uid);
  renderList();
}

function changed(uid: number): void {
  list.refresh(uid);
  const m = msg(uid);
  if (m !== undefined) reader.update({ ...m, flags: flagsOf(m) });
}

async function moveMessage(uid: number, to: string, quiet = false): Promise<void> {
  const next = neighbour(uid);
  gone.add(uid);
  renderList();
  if (next !== undefined) openMessage(next);
  try {
    await client.move(String(uid), to);
    if (!quiet) toast.show(`Moved to ${to}`);
    void refreshFolders();
  } catch (e) {
    gone.delete(uid);
    renderList();
    toast.show(`Could not move the message: ${errText(e)}`, "error");
  }
}

async function removeMessage(uid: number): Promise<void> {
  const trash = trashOf(folders);
  if (trash !== undefined && trash.name !== mailbox) {
    await moveMessage(uid, trash.name, true);
    return;
  }
  const m = msg(uid);
  if (!await confirmAction(`Delete “${m ? subject(m) : "this message"}” permanently?`, "Delete forever")) return;
  const next = neighbour(uid);
  gone.add(uid);
  renderList();
  if (next !== undefined) openMessage(next);
  try {
    await client.store(String(uid), "add", [DELETED], { silent: true });
    await client.expunge(String(uid));
    void refreshFolders();
  } catch (e) {
    gone.delete(uid);
    renderList();
    toast.show(`Could not delete the message: ${errText(e)}`, "error");
  }
}

// ---- bulk actions (the selection's bar, the Delete key) ----

/** setFlags adds or removes flag on every message of uids (one STORE), shown at once, undone on failure. */
async function setFlags(uids: number[], flag: string, on: boolean): Promise<void> {
  if (uids.length === 0) return;
  for (const uid of uids) {
    const m = msg(uid);
    if (m === undefined) continue;
    const before = flagsOf(m).filter((f) => !hasFlag([f], flag));
    overrides.set(uid, on ? [...before, flag] : before);
    changed(uid);
  }
  renderList();
  try {
    const r = await client.store(uids.join(","), on ? "add" : "remove", [flag]);
    for (const x of r.messages) if (x.uid !== undefined && x.flags !== undefined && uids.includes(x.uid)) overrides.set(x.uid, x.flags);
  } catch (e) {
    for (const uid of uids) overrides.delete(uid);
    toast.show(`Could not update ${uids.length} messages: ${errText(e)}`, "error");
  }
  for (const uid of uids) changed(uid);
  renderList();
}

/** moveMessages moves uids to another mailbox in one MOVE. */
async function moveMessages(uids: number[], to: string, what = `Moved ${uids.length} message${uids.length === 1 ? "" : "s"} to ${to}`): Promise<void> {
  if (uids.length === 0) return;
  const cur = reader.current;
  for (const uid of uids) gone.add(uid);
  selection.clear();
  renderList();
  if (cur !== undefined && uids.includes(cur)) reader.clear();
  try {
    await client.move(uids.join(","), to);
    toast.show(what);
    void refreshFolders();
  } catch (e) {
    for (const uid of uids) gone.delete(uid);
    renderList();
    toast.show(`Could not move the messages: ${errText(e)}`, "error");
  }
}

/** removeMessages moves uids to Trash, or (in Trash, or without one) deletes them for good after a confirmation. */
async function removeMessages(uids: number[]): Promise<void> {
  if (uids.length === 0) return;
  const trash = trashOf(folders);
  if (trash !== undefined && trash.name !== mailbox) {
    await moveMessages(uids, trash.name, `Moved ${uids.length} message${uids.length === 1 ? "" : "s"} to ${trash.name}`);
    return;
  }
  const n = uids.length === 1 ? "1 message" : `${uids.length.toLocaleString()} messages`;
  if (!await confirmAction(`Delete ${n} permanently?`, "Delete forever")) return;
  for (const uid of uids) gone.add(uid);
  selection.clear();
  renderList();
  try {
    await client.store(uids.join(","), "add", [DELETED], { silent: true });
    await client.expunge(uids.join(","));
    toast.show(`Deleted ${n}`);
    void refreshFolders();
  } catch (e) {
    for (const uid of uids) gone.delete(uid);
    renderList();
    toast.show(`Could not delete the messages: ${errText(e)}`, "error");
  }
}

/** neighbour is the message to open after uid leaves the list: the next one down, else the one above. */
function neighbour(uid: number): number | undefined {
  if (reader.current !== uid) return undefined;
  const i = list.positionOf(uid);
  return list.keyAt(i + 1) ?? (i > 0 ? list.keyAt(i - 1) : undefined);
}

function openMessage(uid: number): void {
  const m = msg(uid);
  if (m === undefined) return;
  const prev = reader.current;
  reader.show({ ...m, flags: flagsOf(m) }, mailbox, folders);
  if (prev !== undefined) list.refresh(prev);
  list.reveal(uid);
  list.refresh(uid);
  document.body.classList.add("reading");
  setMessageInUrl(uid);
  if (!hasFlag(flagsOf(m), SEEN)) void setFlag(uid, SEEN, true);
}

const errText = (e: unknown): string => (e instanceof Error ? e.message : String(e));

// ---- folders ----

async function refreshFolders(): Promise<void> {
  if (client.state !== "open") return;
  try {
    const r = await client.list({ pattern: "*", specialUse: true, status: ["UNSEEN"] });
    folders = toFolders(r.mailboxes);
  } catch (e) {
    console.warn("imapbridge demo: list failed", e);
    return;
  }
  folderRows.clear();
  folderNav.replaceChildren(...folders.map((f) => {
    const row = renderFolder(f, (name) => openMailbox(name));
    folderRows.set(f.name, row);
    row.root.classList.toggle("active", f.name === mailbox);
    if (f.name !== mailbox || !viewReady) setUnread(row.unread, f.unseen);
    return row.root;
  }));
  liveCounts.follow(folders.filter((f) => f.selectable).map((f) => f.name));
  if (viewReady) renderList();
}

function openMailbox(name: string): void {
  if (view !== undefined && name === mailbox) return;
  const switching = view !== undefined;
  mailbox = name;
  const url = new URL(location.href);
  if (name === "INBOX") url.searchParams.delete("mailbox");
  else url.searchParams.set("mailbox", name);
  if (switching) url.searchParams.delete("msg");
  history.replaceState(null, "", url);
  if (switching) {
    pendingUid = undefined;
    selection.clear();
  }
  for (const [n, row] of folderRows) row.root.classList.toggle("active", n === name);
  titleEl.textContent = name === "INBOX" ? "Inbox" : name;
  setTitle(titleEl.textContent, 0);
  overrides.clear();
  gone.clear();
  findBar.reset();
  viewReady = false;
  reader.clear();
  listPane.scrollTop = 0;
  const v = client.watch(name);
  view = v;
  v.on("change", (c) => {
    if (view !== v) return;
    for (const m of c.updated) overrides.delete(m.uid);
    for (const m of c.removed) {
      gone.delete(m.uid);
      overrides.delete(m.uid);
    }
    renderList();
    for (const m of c.updated) changed(m.uid);
    if (viewReady && c.added.length > 0 && !c.reset) {
      const newest = [...c.added].sort((a, b) => b.uid - a.uid)[0];
      if (newest !== undefined) {
        const more = c.added.length > 1 ? ` (+${c.added.length - 1} more)` : "";
        toast.show(`New mail: ${subject(newest)}${more}`, "mail", () => openMessage(newest.uid));
      }
    }
  });
  v.on("synced", () => {
    if (view !== v) return;
    viewReady = true;
    renderList();
    if (pendingUid !== undefined) {
      const uid = pendingUid;
      pendingUid = undefined;
      if (msg(uid) !== undefined) openMessage(uid);
      else setMessageInUrl(undefined);
    }
  });
  renderList();
}

// ---- compose and send (compose.ts) ----

const compose = new ComposeWindow({
  client, user: () => session.user(), draftsFolder: () => folders.find((f) => f.role === "drafts")?.name ?? DRAFTS_FALLBACK,
  notify: (text, error) => toast.show(text, error ? "error" : "info"), refresh: () => void refreshFolders(),
});
compose.mount(byId("conn-state"));

// ---- drafts (draft.ts) ----

new Composer(client, () => folders.find((f) => f.role === "drafts")?.name ?? DRAFTS_FALLBACK,
  (text, error) => {
    toast.show(text, error ? "error" : "info");
    if (!error) void refreshFolders();
  }).mount(byId("conn-state"));

// ---- connection ----

const stateEl = byId("conn-state");
const failure = new FailureNotice((n) => stateEl.closest("header")?.after(n), () => client.reconnect());
const account = new Account(stateEl, client, session.user);
client.on("connection", (e: ConnectionEvent) => {
  showState(stateEl, e, () => client.reconnect());
  account.refresh();
  failure.show(e);
  if (e.state === "open") void refreshFolders();
});
showState(stateEl, { state: client.state }, () => client.reconnect());
setInterval(() => void refreshFolders(), FOLDER_REFRESH_MS);

document.addEventListener("keydown", (ev) => {
  if (ev.target instanceof HTMLSelectElement || ev.target instanceof HTMLInputElement || ev.target instanceof HTMLTextAreaElement) return;
  if (document.querySelector("dialog[open]") !== null || ev.ctrlKey || ev.metaKey || ev.altKey) return;
  const cur = reader.current;
  const i = cur === undefined ? -1 : list.positionOf(cur);
  if (ev.key === "Delete") {
    if (selection.size > 0) void removeMessages(selection.uids());
    else if (cur !== undefined) void removeMessage(cur);
  } else if (ev.key === "x") {
    if (cur !== undefined) selection.toggle(cur);
  } else if (ev.key === "Escape" && selection.size > 0) {
    selection.clear();
  } else if (ev.key === "ArrowDown" || ev.key === "j") {
    const k = list.keyAt(i + 1);
    if (k !== undefined) openMessage(k);
  } else if (ev.key === "ArrowUp" || ev.key === "k") {
    const k = i > 0 ? list.keyAt(i - 1) : undefined;
    if (k !== undefined) openMessage(k);
  } else return;
  ev.preventDefault();
});
byId("back").addEventListener("click", () => document.body.classList.remove("reading"));

openMailbox(mailbox);
