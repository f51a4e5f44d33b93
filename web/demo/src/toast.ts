/** The toast: one short notice at a time (new mail, failures). */

/** TOAST_MS is how long a toast stays visible. */
export const TOAST_MS = 5000;

/** ToastKind styles a toast. */
export type ToastKind = "mail" | "info" | "error";

/** Toast shows notices in one host element (data-testid="toast" is added while visible). */
export class Toast {
  private readonly host: HTMLElement;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private onClick: (() => void) | undefined;

  /** Creates a toast in host. */
  constructor(host: HTMLElement) {
    this.host = host;
    host.addEventListener("click", () => {
      this.onClick?.();
      this.hide();
    });
  }

  /** show displays text (plain text) for {@link TOAST_MS}; a click calls onClick. */
  show(text: string, kind: ToastKind = "info", onClick?: () => void): void {
    this.host.textContent = text;
    this.host.dataset["kind"] = kind;
    this.host.dataset["testid"] = "toast";
    this.host.hidden = false;
    this.host.classList.add("visible");
    this.onClick = onClick;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.hide(), TOAST_MS);
  }

  /** hide removes the toast. */
  hide(): void {
    this.host.classList.remove("visible");
    this.host.hidden = true;
    delete this.host.dataset["testid"];
    this.onClick = undefined;
  }
}
