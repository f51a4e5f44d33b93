// A minimal DOM for testing <imapbridge-unread> in Node: imported before the element's module.
export class FakeElement {
  readonly attrs = new Map<string, string>();
  textContent = "";
  isConnected = false;
  readonly events: { type: string; detail: unknown }[] = [];
  setAttribute(k: string, v: string): void { this.attrs.set(k, String(v)); }
  getAttribute(k: string): string | null { return this.attrs.get(k) ?? null; }
  removeAttribute(k: string): void { this.attrs.delete(k); }
  dispatchEvent(e: { type: string; detail: unknown }): boolean { this.events.push({ type: e.type, detail: e.detail }); return true; }
}
const registry = new Map<string, unknown>();
const styles: { id: string; textContent: string }[] = [];
const g = globalThis as Record<string, unknown>;
g["HTMLElement"] = FakeElement;
g["customElements"] = { get: (n: string) => registry.get(n), define: (n: string, c: unknown) => registry.set(n, c) };
g["document"] = {
  getElementById: (id: string) => styles.find((s) => s.id === id) ?? null,
  createElement: () => ({ id: "", textContent: "" }),
  head: { append: (s: { id: string; textContent: string }) => styles.push(s) },
};
g["location"] = { href: "http://localhost/" };
export { registry, styles };
