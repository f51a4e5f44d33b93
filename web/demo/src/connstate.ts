/** The connection-state indicator shared by the demo page and the widget. */
import type { ConnectionEvent } from "../../sdk/src/index.js";

const LABELS: { readonly [state: string]: string } = {
  connecting: "Connecting…",
  open: "Live",
  reconnecting: "Reconnecting…",
  auth_required: "Sign-in needed",
  failed: "Not allowed",
  closed: "Offline",
};

/**
 * showState sets data-state on host (the e2e contract) and its text; in
 * state auth_required a click on it calls retry.
 */
export function showState(host: HTMLElement, e: Pick<ConnectionEvent, "state" | "delayMs">, retry: () => void): void {
  host.dataset["state"] = e.state;
  let text = LABELS[e.state] ?? e.state;
  if (e.state === "reconnecting" && e.delayMs !== undefined && e.delayMs >= 1000) text = `Reconnecting in ${Math.round(e.delayMs / 1000)} s`;
  const label = host.querySelector(".state-label");
  if (label !== null) label.textContent = text;
  else host.textContent = text;
  host.title = e.state === "auth_required" ? "Click to sign in again" : `Connection: ${e.state}`;
  host.onclick = e.state === "auth_required" || e.state === "reconnecting" || e.state === "failed" ? retry : null;
}
