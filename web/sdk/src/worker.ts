/**
 * serveSharedWorker is the SharedWorker of @imapbridge/sdk/shared: it holds
 * the bridge WebSockets (one per bridge URL and user) for every tab of the
 * origin. dist/shared-worker.js calls it; a page that goes away says so
 * ("bye" on pagehide), one that crashes is noticed through the Web Lock it held.
 * @internal
 */
import { Registry, type HubMessage, type TabMessage } from "./hub.js";

type PageMessage = TabMessage | { readonly t: "page"; readonly page: string; readonly lock: string } | { readonly t: "bye"; readonly page: string };

/** serveSharedWorker answers the tabs of this SharedWorker's origin (call it once, in the worker). */
export function serveSharedWorker(): void {
  const scope = globalThis as unknown as {
    onconnect: ((ev: MessageEvent) => void) | null;
    navigator: { locks?: { request(name: string, fn: () => void): Promise<unknown> } };
  };
  const registry = new Registry("worker", WebSocket);

  scope.onconnect = (ev: MessageEvent) => {
    const port = ev.ports[0];
    if (port === undefined) return;
    const tabs = new Set<string>();
    let gone = false;
    const post = (m: HubMessage) => !gone && port.postMessage(m);
    const leave = () => {
      if (gone) return;
      gone = true;
      for (const tab of tabs) registry.handle({ t: "close", tab }, () => undefined);
      tabs.clear();
    };
    port.onmessage = (e: MessageEvent<PageMessage>) => {
      const m = e.data;
      if (m.t === "page") void scope.navigator.locks?.request(m.lock, leave);
      else if (m.t === "bye") leave();
      else if (!gone) {
        if (m.t === "open") tabs.add(m.tab);
        else if (m.t === "close") tabs.delete(m.tab);
        registry.handle(m, post);
      }
    };
    port.start();
  };
}
