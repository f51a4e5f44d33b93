/**
 * Live unread counts on every folder (issue 16): a status watch
 * (@imapbridge/sdk/find watchStatus: NOTIFY push, else bridge polling) over
 * the listed folders; each change sets that folder's badge at once. The open
 * folder's badge stays the list's own count (it also sees this page's
 * not-yet-confirmed changes).
 */
import type { Client } from "../../sdk/src/index.js";
import { watchStatus, type StatusWatch } from "../../sdk/src/find.js";

/** LiveCounts keeps one watch over the folder names it was last given. */
export class LiveCounts {
  private watch: StatusWatch | undefined;
  private names = "";

  constructor(private readonly client: Client, private readonly show: (mailbox: string, unseen: number) => void) {}

  /** follow watches exactly these folders (a no-op when they did not change). */
  follow(mailboxes: readonly string[]): void {
    const key = JSON.stringify([...mailboxes].sort());
    if (key === this.names) return;
    this.names = key;
    const old = this.watch;
    this.watch = undefined;
    void old?.close();
    watchStatus(this.client, { mailboxes: [...mailboxes], onChange: (m, v) => this.show(m, v.unseen ?? 0) }).then((w) => {
      if (this.names !== key) void w.close();
      else this.watch = w;
    }, (e: unknown) => {
      this.names = "";
      console.warn("imapbridge demo: folder watch failed", e);
    });
  }
}
