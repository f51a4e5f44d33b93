/**
 * The embeddable widget (/widget.html): INBOX's unread count, live. It
 * watches INBOX read-only with UIDs and flags only, so it stays cheap.
 */
import { showState } from "./connstate.js";
import { byId } from "./dom.js";
import { FailureNotice } from "./failure.js";
import { SEEN, hasFlag } from "./format.js";
import { openSession } from "./session.js";

/** WIDGET_MAILBOX is the mailbox whose unread messages the widget counts. */
export const WIDGET_MAILBOX = "INBOX";

const { client } = openSession((e) => console.warn("imapbridge widget:", e));
const countEl = byId("unread-count");
const stateEl = byId("widget-state");
const labelEl = byId("unread-label");
const view = client.watch(WIDGET_MAILBOX, { readOnly: true, items: ["uid", "flags"] });

function render(): void {
  let unread = 0;
  for (const m of view.messages.values()) if (!hasFlag(m.flags, SEEN)) unread++;
  const text = String(unread);
  if (countEl.textContent !== text) {
    countEl.textContent = text;
    countEl.classList.remove("bump");
    void countEl.offsetWidth;
    countEl.classList.add("bump");
  }
  labelEl.textContent = unread === 1 ? "unread message" : "unread messages";
  document.title = unread > 0 ? `(${unread}) Inbox` : "Inbox";
}

view.on("change", render);
view.on("synced", render);
const failure = new FailureNotice((n) => document.body.prepend(n), () => client.reconnect());
client.on("connection", (e) => {
  showState(stateEl, e, () => client.reconnect());
  failure.show(e);
  if (e.reason !== undefined && e.state !== "open") labelEl.textContent = "unread messages (not live)";
});
showState(stateEl, { state: client.state }, () => client.reconnect());
