/**
 * The embeddable widget (/widget.html): INBOX's unread count, live, from
 * the SDK's <imapbridge-unread> element (@imapbridge/sdk/unread) on this
 * page's shared session: the bridge's status watch (NOTIFY or polling), no
 * mailbox selected, nothing fetched.
 */
import { showState } from "./connstate.js";
import { byId } from "./dom.js";
import { FailureNotice } from "./failure.js";
import { openSession } from "./session.js";
import type { UnreadElement } from "../../sdk/src/unread.js";
import "../../sdk/src/unread.js";

/** WIDGET_MAILBOX is the mailbox whose unread messages the widget counts. */
export const WIDGET_MAILBOX = "INBOX";

const { client } = openSession((e) => console.warn("imapbridge widget:", e));
const countEl = byId("unread-count");
const stateEl = byId("widget-state");
const labelEl = byId("unread-label");
const badge = countEl as UnreadElement;
badge.client = client;

function render(unread: number): void {
  countEl.classList.remove("bump");
  void countEl.offsetWidth;
  countEl.classList.add("bump");
  labelEl.textContent = unread === 1 ? "unread message" : "unread messages";
  document.title = unread > 0 ? `(${unread}) Inbox` : "Inbox";
}

countEl.addEventListener("change", (e) => render((e as CustomEvent<{ count: number }>).detail.count));
const failure = new FailureNotice((n) => document.body.prepend(n), () => client.reconnect());
client.on("connection", (e) => {
  showState(stateEl, e, () => client.reconnect());
  failure.show(e);
  if (e.reason !== undefined && e.state !== "open") labelEl.textContent = "unread messages (not live)";
});
showState(stateEl, { state: client.state }, () => client.reconnect());
