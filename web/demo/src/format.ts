/** Plain-text formatting of envelopes, dates and flags for display. */
import type { Address, Message } from "../../sdk/src/index.js";

/** SEEN, FLAGGED and DELETED are the system flags the demo reads and sets. */
export const SEEN = "\\Seen";
export const FLAGGED = "\\Flagged";
export const DELETED = "\\Deleted";

/** hasFlag reports whether flags holds flag (system flags compare case-insensitively). */
export function hasFlag(flags: readonly string[], flag: string): boolean {
  const f = flag.toLowerCase();
  return flags.some((x) => x.toLowerCase() === f);
}

/** person formats one address as its display name, or the address itself. */
export function person(a: Address | undefined): string {
  if (a === undefined) return "";
  return a.name !== undefined && a.name.trim() !== "" ? a.name : a.addr;
}

/** fullAddress formats an address as "Name <addr>". */
export function fullAddress(a: Address): string {
  return a.name !== undefined && a.name.trim() !== "" ? `${a.name} <${a.addr}>` : a.addr;
}

/** sender returns the display sender of a message. */
export function sender(m: Message): string {
  return person(m.envelope?.from[0]) || "(unknown sender)";
}

/** subject returns the subject of a message, or a placeholder. */
export function subject(m: Message): string {
  const s = m.envelope?.subject ?? "";
  return s.trim() !== "" ? s : "(no subject)";
}

/** messageDate returns the received date (internal date), else the Date header. */
export function messageDate(m: Message): Date | undefined {
  const raw = m.internalDate ?? m.envelope?.date;
  if (raw === undefined) return undefined;
  const d = new Date(raw);
  return Number.isNaN(d.getTime()) ? undefined : d;
}

const timeFmt = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit" });
const dayFmt = new Intl.DateTimeFormat(undefined, { month: "short", day: "numeric" });
const yearFmt = new Intl.DateTimeFormat(undefined, { year: "numeric", month: "short", day: "numeric" });
const longFmt = new Intl.DateTimeFormat(undefined, { dateStyle: "full", timeStyle: "short" });

/** shortDate formats a list date: the time today, the day this year, else the full date. */
export function shortDate(d: Date | undefined, now = new Date()): string {
  if (d === undefined) return "";
  if (d.toDateString() === now.toDateString()) return timeFmt.format(d);
  if (d.getFullYear() === now.getFullYear()) return dayFmt.format(d);
  return yearFmt.format(d);
}

/** longDate formats the date shown in the message view. */
export function longDate(d: Date | undefined): string {
  return d === undefined ? "" : longFmt.format(d);
}
