/**
 * Page state outside the mail views: the unread count in the tab title and
 * the open message in the URL (?msg=UID, beside ?mailbox=), so a reload or a
 * shared link opens the same message again.
 */

/** MSG_PARAM is the URL parameter of the open message's UID. */
export const MSG_PARAM = "msg";

/** setTitle shows label and, when there are any, the unread count in the tab title: "(3) Inbox — imapbridge". */
export function setTitle(label: string, unread: number): void {
  const t = `${unread > 0 ? `(${unread.toLocaleString()}) ` : ""}${label} — imapbridge`;
  if (document.title !== t) document.title = t;
}

/** messageInUrl is the UID the URL asks to open, if any. */
export function messageInUrl(): number | undefined {
  const v = new URLSearchParams(location.search).get(MSG_PARAM);
  const n = v === null ? NaN : Number(v);
  return Number.isInteger(n) && n > 0 ? n : undefined;
}

/** setMessageInUrl records the open message (undefined: none) without a history entry. */
export function setMessageInUrl(uid: number | undefined): void {
  const url = new URL(location.href);
  if (uid === undefined) url.searchParams.delete(MSG_PARAM);
  else url.searchParams.set(MSG_PARAM, String(uid));
  if (url.href !== location.href) history.replaceState(null, "", url);
}
