/**
 * The signed-in account in the top bar, with a sign-out: LOGOUT on the
 * bridge session, then a page that says so and offers to sign in again.
 */
import type { Client } from "../../sdk/src/index.js";
import { el } from "./dom.js";

/** Account shows who is signed in (user() once a token came) before the element next. */
export class Account {
  private readonly box = el("div", "account", undefined, "account");
  private readonly name = el("span", "account-user", "", "account-user");

  /** Creates the indicator before next; user returns the signed-in IMAP user ("" before the first token). */
  constructor(next: Element, private readonly client: Client, private readonly user: () => string) {
    const out = el("button", "btn account-out", "Sign out", "sign-out");
    out.type = "button";
    out.addEventListener("click", () => void this.signOut());
    this.box.append(el("span", "account-avatar"), this.name, out);
    this.box.hidden = true;
    next.before(this.box);
  }

  /** refresh shows the current user (call on every connection event). */
  refresh(): void {
    const u = this.user();
    this.name.textContent = u;
    this.name.title = `Signed in as ${u}`;
    (this.box.firstChild as HTMLElement).textContent = u.slice(0, 1).toUpperCase();
    this.box.hidden = u === "";
  }

  /** signOut logs the session out and replaces the page with a signed-out notice. */
  async signOut(): Promise<void> {
    const who = this.user();
    try {
      await this.client.logout();
    } catch {
      // Already gone: signed out either way.
    }
    this.client.close();
    const page = el("main", "signed-out", undefined, "signed-out");
    const again = el("button", "btn", "Sign in again", "sign-in");
    again.type = "button";
    again.addEventListener("click", () => location.reload());
    page.append(el("h1", "", "Signed out"), el("p", "", `${who} is signed out of this page; the bridge session was logged out.`), again);
    document.body.replaceChildren(page);
    document.title = "Signed out — imapbridge";
  }
}
