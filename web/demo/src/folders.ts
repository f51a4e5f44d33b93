/**
 * The folder list: special-use ordering and icons, unread counts, and the
 * Trash lookup used by delete.
 */
import type { MailboxInfo } from "../../sdk/src/index.js";
import { el, icon, type IconName } from "./dom.js";

/** Role is a folder's special use as the demo understands it. */
export type Role = "inbox" | "drafts" | "sent" | "archive" | "junk" | "trash" | "other";

/** ROLE_ORDER is the display order of folders by role; other folders follow by name. */
const ROLE_ORDER: readonly Role[] = ["inbox", "drafts", "sent", "archive", "junk", "trash", "other"];

const ROLE_ICON: { readonly [R in Role]: IconName } = {
  inbox: "inbox", drafts: "draft", sent: "send", archive: "archive", junk: "junk", trash: "trash", other: "folder",
};

const SPECIAL_USE: { readonly [attr: string]: Role } = {
  "\\drafts": "drafts", "\\sent": "sent", "\\archive": "archive", "\\all": "archive", "\\junk": "junk", "\\trash": "trash",
};

/** Well-known names, for servers without SPECIAL-USE. */
const BY_NAME: { readonly [name: string]: Role } = {
  drafts: "drafts", sent: "sent", "sent items": "sent", "sent messages": "sent", archive: "archive",
  junk: "junk", spam: "junk", trash: "trash", "deleted items": "trash", "deleted messages": "trash",
};

/** Folder is a mailbox as the page shows it. */
export interface Folder {
  /** name is the full (decoded) mailbox name. */
  readonly name: string;
  /** label is the last hierarchy level of name. */
  readonly label: string;
  /** depth is the hierarchy level (0 for top-level). */
  readonly depth: number;
  /** root is the name of the top-level folder this one lives under (its own name at depth 0). */
  readonly root: string;
  readonly role: Role;
  /** selectable is false for \Noselect and \NonExistent containers. */
  readonly selectable: boolean;
  /** unseen is the unread count from the last list (undefined when unknown). */
  readonly unseen: number | undefined;
}

function roleOf(m: MailboxInfo): Role {
  if (m.name.toUpperCase() === "INBOX") return "inbox";
  for (const a of [m.specialUse ?? "", ...m.attributes]) {
    const r = SPECIAL_USE[a.toLowerCase()];
    if (r !== undefined) return r;
  }
  return BY_NAME[m.name.toLowerCase()] ?? "other";
}

/** toFolders converts a list result into folders in display order. */
export function toFolders(list: readonly MailboxInfo[]): Folder[] {
  const out = list.map((m): Folder => {
    const parts = m.delimiter !== "" ? m.name.split(m.delimiter) : [m.name];
    const attrs = m.attributes.map((a) => a.toLowerCase());
    return {
      name: m.name,
      label: parts[parts.length - 1] ?? m.name,
      depth: parts.length - 1,
      root: parts[0] ?? m.name,
      role: roleOf(m),
      selectable: !attrs.includes("\\noselect") && !attrs.includes("\\nonexistent"),
      unseen: m.status?.unseen,
    };
  });
  const byName = new Map(out.map((f) => [f.name, f]));
  const rootOf = (f: Folder): Folder => byName.get(f.root) ?? f;
  const rank = (f: Folder): number => ROLE_ORDER.indexOf(f.depth === 0 ? f.role : "other");
  return out.sort((a, b) => {
    const ra = rootOf(a);
    const rb = rootOf(b);
    const d = rank(ra) - rank(rb);
    if (d !== 0) return d;
    if (ra !== rb) return ra.name.localeCompare(rb.name);
    return a.name.localeCompare(b.name);
  });
}

/** trashOf returns the Trash folder, if the account has one. */
export function trashOf(folders: readonly Folder[]): Folder | undefined {
  return folders.find((f) => f.role === "trash" && f.selectable);
}

/** FolderRow is one rendered folder entry. */
export interface FolderRow {
  readonly root: HTMLElement;
  readonly unread: HTMLElement;
}

/** renderFolder builds the folder entry (data-testid="folder", data-name, and "unread" inside). */
export function renderFolder(f: Folder, onOpen: (name: string) => void): FolderRow {
  const root = el("button", "folder", undefined, "folder");
  root.type = "button";
  root.dataset["name"] = f.name;
  root.style.setProperty("--depth", String(f.depth));
  root.disabled = !f.selectable;
  root.title = f.name;
  const unread = el("span", "unread", "", "unread");
  root.append(icon(ROLE_ICON[f.role]), el("span", "folder-label", f.role === "inbox" ? "Inbox" : f.label), unread);
  root.addEventListener("click", () => onOpen(f.name));
  return { root, unread };
}

/** setUnread shows count in an unread badge (empty when 0 or unknown). */
export function setUnread(badge: HTMLElement, count: number | undefined): void {
  const text = count !== undefined && count > 0 ? count.toLocaleString() : "";
  if (badge.textContent !== text) badge.textContent = text;
  badge.closest(".folder")?.classList.toggle("has-unread", text !== "");
}
