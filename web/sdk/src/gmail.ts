/**
 * Gmail's IMAP extensions (X-GM-EXT-1) through the bridge: labels and
 * Gmail's own search syntax. The fetch items "gmailMsgId", "gmailThreadId"
 * and "gmailLabels" need nothing of this module (client.fetch). On a server
 * without X-GM-EXT-1 every call rejects with the error "unavailable".
 */
import type { Client, RequestOptions } from "./client.js";
import type { SearchResult, StoreResult } from "./protocol.js";

/** storeLabels adds, removes or sets Gmail labels ("\\Important", "Receipts") of messages by UID. */
export function storeLabels(client: Client, uids: string, mode: "add" | "remove" | "set", labels: string[], o?: RequestOptions): Promise<StoreResult> {
  return client.request<StoreResult>("store", { uids, mode, flags: [], labels }, o);
}

/** gmailSearch searches the selected mailbox with Gmail's web syntax ("has:attachment in:unread"): UID SEARCH X-GM-RAW. */
export function gmailSearch(client: Client, query: string, o?: RequestOptions): Promise<SearchResult> {
  return client.request<SearchResult>("search", { gmailRaw: query }, o);
}
