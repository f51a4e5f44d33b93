/**
 * A confirmation dialog for what cannot be undone (deleting from Trash): a
 * modal <dialog>, the safe choice focused, Escape cancels.
 */
import { el } from "./dom.js";

/** confirmAction asks text with a destructive button labelled action; it resolves true only on that button. */
export function confirmAction(text: string, action: string, detail = "This cannot be undone."): Promise<boolean> {
  const d = el("dialog", "confirm", undefined, "confirm-dialog");
  const form = el("form", "confirm-form");
  form.method = "dialog";
  const ok = el("button", "btn danger-solid", action, "confirm-ok");
  ok.value = "ok";
  const cancel = el("button", "btn", "Cancel", "confirm-cancel");
  cancel.value = "cancel";
  const buttons = el("div", "confirm-buttons");
  buttons.append(cancel, ok);
  form.append(el("p", "confirm-text", text, "confirm-text"), el("p", "confirm-detail", detail), buttons);
  d.append(form);
  document.body.append(d);
  return new Promise((resolve) => {
    d.addEventListener("close", () => {
      resolve(d.returnValue === "ok");
      d.remove();
    }, { once: true });
    d.showModal();
    cancel.focus();
  });
}
