/**
 * @imapbridge/sdk/unread — `<imapbridge-unread>`, an embeddable live unread
 * count. Framework-free; importing the module (a plain `<script type="module">`)
 * defines the element:
 *
 *     <script type="module" src="/sdk/unread.js"></script>
 *     <imapbridge-unread url="wss://bridge.example.com/ws" token-url="/api/mail-token"></imapbridge-unread>
 *
 * Attributes: `url` (the bridge's WebSocket URL; a path like "/ws" is taken
 * on this page's host), `token-url` (POSTed on every (re)connect; answers
 * JSON `{"token": "...", "password"?: "..."}`), `mailbox` (count one folder;
 * absent: the total over every subscribed folder), `label` (announced after
 * the number, default "unread"). Properties: `client` (share an existing
 * Client instead of connecting), `tokenProvider` and `login` (instead of
 * token-url), `count` (read-only). It fires `change` (detail: `{count}`).
 *
 * The number is the element's text, so it inherits the page's font; it is a
 * polite live region (role status, aria-live polite, aria-atomic) whose
 * accessible name says "N unread". Theme it with CSS custom properties:
 * `--imapbridge-unread-bg`, `--imapbridge-unread-fg`, `--imapbridge-unread-radius`,
 * `--imapbridge-unread-padding`, `--imapbridge-unread-font-size`, and
 * `--imapbridge-unread-zero-opacity` (a zero count, default 0.55).
 */
import { connect } from "./index.js";
import type { Client } from "./client.js";
import type { TokenProvider } from "./options.js";
import { watchStatus, type StatusWatch } from "./find.js";

/** TAG is the element's name. */
export const TAG = "imapbridge-unread";

/** STYLE is the element's default look; every value comes from a custom property. */
const STYLE = `${TAG}{display:inline-block;min-width:1.4em;box-sizing:border-box;text-align:center;line-height:1.4;` +
  `font-variant-numeric:tabular-nums;font-weight:600;font-size:var(--imapbridge-unread-font-size,.85em);` +
  `padding:var(--imapbridge-unread-padding,0 .45em);border-radius:var(--imapbridge-unread-radius,999px);` +
  `background:var(--imapbridge-unread-bg,#d93025);color:var(--imapbridge-unread-fg,#fff)}` +
  `${TAG}[data-count="0"],${TAG}:not([data-count]){opacity:var(--imapbridge-unread-zero-opacity,.55)}`;

let styled = false;

/** addStyle adds STYLE once: a constructed sheet (no CSP style-src 'unsafe-inline' needed), else a <style>. */
function addStyle(): void {
  if (styled) return;
  styled = true;
  if (typeof CSSStyleSheet !== "undefined" && "adoptedStyleSheets" in document) {
    const sheet = new CSSStyleSheet();
    sheet.replaceSync(STYLE);
    document.adoptedStyleSheets = [...document.adoptedStyleSheets, sheet];
    return;
  }
  const s = document.createElement("style");
  s.textContent = STYLE;
  document.head.append(s);
}

/** Base is HTMLElement, or a stand-in where there is no DOM (importing the module from Node defines nothing). */
const Base = (typeof HTMLElement === "undefined" ? class {} : HTMLElement) as typeof HTMLElement;

/** UnreadElement is `<imapbridge-unread>`. */
export class UnreadElement extends Base {
  static readonly observedAttributes = ["url", "token-url", "mailbox"];
  /** client, when set before the element connects, is used instead of a connection of its own. */
  client: Client | undefined;
  /** tokenProvider replaces token-url. */
  tokenProvider: TokenProvider | undefined;
  /** login returns the IMAP password (password mode) when token-url gives none. */
  login: (() => string | Promise<string>) | undefined;
  private watch: StatusWatch | undefined;
  private own: Client | undefined;
  private gen = 0;
  private n = -1;

  /** count is the number shown (-1 before the first answer). */
  get count(): number {
    return this.n;
  }

  connectedCallback(): void {
    addStyle();
    this.setAttribute("role", "status");
    this.setAttribute("aria-live", "polite");
    this.setAttribute("aria-atomic", "true");
    // Started after the current task, so properties set right after insertion count.
    queueMicrotask(() => void this.start());
  }

  disconnectedCallback(): void {
    this.stop();
  }

  attributeChangedCallback(): void {
    if (this.isConnected && this.watch !== undefined) {
      this.stop();
      void this.start();
    }
  }

  private stop(): void {
    this.gen++;
    void this.watch?.close();
    this.watch = undefined;
    this.own?.close();
    this.own = undefined;
  }

  private async start(): Promise<void> {
    if (!this.isConnected || this.watch !== undefined) return;
    const gen = ++this.gen;
    let client = this.client;
    if (client === undefined) {
      let password: string | undefined;
      const tokenUrl = this.getAttribute("token-url");
      const token: TokenProvider = this.tokenProvider ?? (async () => {
        const r = await fetch(tokenUrl ?? "", { method: "POST", credentials: "same-origin", cache: "no-store" });
        if (!r.ok) throw new Error(`token endpoint answered ${r.status}`);
        const b = (await r.json()) as { token?: unknown; password?: unknown };
        if (typeof b.token !== "string") throw new Error("token endpoint: no token");
        password = typeof b.password === "string" ? b.password : undefined;
        return b.token;
      });
      const u = new URL(this.getAttribute("url") ?? "/ws", location.href);
      if (u.protocol === "http:" || u.protocol === "https:") u.protocol = u.protocol === "https:" ? "wss:" : "ws:";
      const login = this.login ?? (this.tokenProvider === undefined ? () => password ?? "" : undefined);
      client = this.own = connect({ url: u.href, token, ...(login !== undefined ? { login } : {}) });
    }
    const mailbox = this.getAttribute("mailbox");
    try {
      const w = await watchStatus(client, { ...(mailbox !== null ? { mailboxes: [mailbox] } : {}), onChange: (_m, _v, w) => { if (this.watch === w) this.show(w); } });
      if (gen !== this.gen) {
        void w.close();
        return;
      }
      this.watch = w;
      this.show(w);
    } catch {
      if (gen === this.gen) this.setAttribute("data-state", "error");
    }
  }

  private show(w: StatusWatch): void {
    const mailbox = this.getAttribute("mailbox");
    const n = w.unseen(mailbox ?? undefined);
    this.setAttribute("data-state", w.mode ?? "");
    if (n === this.n) return;
    this.n = n;
    this.textContent = String(n);
    this.setAttribute("data-count", String(n));
    this.setAttribute("aria-label", `${n} ${this.getAttribute("label") ?? "unread"}`);
    this.dispatchEvent(new CustomEvent("change", { detail: { count: n } }));
  }
}

if (typeof customElements !== "undefined" && customElements.get(TAG) === undefined) customElements.define(TAG, UnreadElement);
