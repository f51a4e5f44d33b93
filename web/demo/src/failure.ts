/**
 * The failure notice shared by the demo page and the widget: why the
 * connection is not open and what the user can do, in words
 * (@imapbridge/sdk/explain). DOM contract: data-testid="failure" with
 * data-reason, holding failure-summary and failure-action.
 */
import type { ConnectionEvent } from "../../sdk/src/index.js";
import { explainFailure } from "../../sdk/src/explain.js";
import { el } from "./dom.js";

/** FailureNotice is a notice element that follows the connection events. */
export class FailureNotice {
  /** root is the notice element (hidden while the connection is fine). */
  readonly root: HTMLElement;
  private readonly summary: HTMLElement;
  private readonly action: HTMLElement;
  private readonly detail: HTMLElement;

  /** Creates the notice and hands it to place (which puts it in the page); retry is the "Try now" button's action. */
  constructor(place: (notice: HTMLElement) => void, retry: () => void) {
    this.root = el("div", "failure", undefined, "failure");
    this.root.setAttribute("role", "alert");
    this.root.hidden = true;
    this.summary = el("strong", "failure-summary", "", "failure-summary");
    this.action = el("span", "failure-action", "", "failure-action");
    this.detail = el("small", "failure-detail", "", "failure-detail");
    const button = el("button", "btn failure-retry", "Try now", "failure-retry");
    button.type = "button";
    button.addEventListener("click", (ev) => {
      ev.preventDefault();
      ev.stopPropagation();
      retry();
    });
    this.root.append(this.summary, " ", this.action, button, this.detail);
    place(this.root);
  }

  /** show renders e: hidden when open or connecting without a reason, else the reason in words. */
  show(e: Pick<ConnectionEvent, "state" | "reason" | "delayMs" | "error">): void {
    if (e.state === "open" || e.reason === undefined) {
      if (e.state === "open" || e.state === "closed") this.root.hidden = true;
      return;
    }
    const words = explainFailure(e.reason);
    this.root.dataset["reason"] = e.reason;
    this.root.dataset["state"] = e.state;
    this.summary.textContent = words.summary;
    const wait = e.state === "reconnecting" && e.delayMs !== undefined && e.delayMs >= 1000 ? ` Next attempt in ${Math.round(e.delayMs / 1000)} s.` : "";
    this.action.textContent = words.action + wait;
    // The token provider's own words (e.g. why the token endpoint refused) say more than any generic text.
    const detail = e.reason === "token_unavailable" && e.error !== undefined && "detail" in e.error ? e.error.detail : "";
    this.detail.textContent = detail;
    this.detail.hidden = detail === "";
    this.root.hidden = false;
  }
}
