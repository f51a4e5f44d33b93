// Test doubles: a scripted fake WebSocket and fake timers.
import type { Timers, WebSocketLike } from "../src/transport.js";
import { connect, type Client, type ConnectOptions } from "../src/index.js";

/** Req is a request frame as the fake server sees it. */
export type Req = Record<string, unknown> & { id: string; op: string };

/** FakeWebSocket records what the client sends and lets a test play the server. */
export class FakeWebSocket implements WebSocketLike {
  static instances: FakeWebSocket[] = [];
  readyState = 0;
  bufferedAmount = 0;
  protocol = "";
  onopen: ((ev: unknown) => void) | null = null;
  onmessage: ((ev: { data: unknown }) => void) | null = null;
  onclose: ((ev: { code: number; reason: string }) => void) | null = null;
  onerror: ((ev: unknown) => void) | null = null;
  readonly sent: Req[] = [];
  closedWith: number | undefined;
  /** onRequest, when set, answers each request (return a result, an Error-frame body, or undefined for no answer). */
  onRequest: ((r: Req) => void) | undefined;

  constructor(readonly url: string, readonly protocols: string[]) {
    FakeWebSocket.instances.push(this);
  }
  static get last(): FakeWebSocket {
    const ws = FakeWebSocket.instances[FakeWebSocket.instances.length - 1];
    if (ws === undefined) throw new Error("no socket");
    return ws;
  }
  send(data: string): void {
    const r = JSON.parse(data) as Req;
    this.sent.push(r);
    this.onRequest?.(r);
  }
  close(code?: number): void {
    this.closedWith = code;
    this.readyState = 3;
  }
  open(): void {
    this.readyState = 1;
    this.protocol = "imapbridge.v1";
    this.onopen?.({});
  }
  push(frame: unknown): void {
    this.onmessage?.({ data: typeof frame === "string" ? frame : JSON.stringify(frame) });
  }
  hello(capabilities: string[] = ["IMAP4REV1", "IDLE"]): void {
    this.push({ type: "hello", protocol: "imapbridge.v1", session: "s-1", user: "alice", capabilities,
      limits: { maxFrameBytes: 65536, maxInFlight: 8, pingIntervalMs: 25000 }, seq: 0 });
  }
  respond(id: string, result: unknown = {}): void {
    this.push({ type: "response", id, result });
  }
  fail(id: string, code: string, message = "failed", imap?: unknown): void {
    this.push({ type: "error", id, error: { code, message, ...(imap !== undefined ? { imap } : {}) } });
  }
  serverClose(code: number, reason = ""): void {
    this.readyState = 3;
    this.onclose?.({ code, reason });
  }
}

/** FakeTimers is a manual clock. */
export class FakeTimers implements Timers {
  nowMs = 0;
  private seq = 0;
  private readonly pending = new Map<number, { at: number; fn: () => void }>();
  setTimeout(fn: () => void, ms: number): unknown {
    const id = ++this.seq;
    this.pending.set(id, { at: this.nowMs + Math.max(0, ms), fn });
    return id;
  }
  clearTimeout(h: unknown): void {
    this.pending.delete(h as number);
  }
  now(): number {
    return this.nowMs;
  }
  /** advance runs every timer due within ms, in order, flushing promises between them. */
  async advance(ms: number): Promise<void> {
    const end = this.nowMs + ms;
    for (;;) {
      await flush();
      let next: [number, { at: number; fn: () => void }] | undefined;
      for (const e of this.pending) if (e[1].at <= end && (next === undefined || e[1].at < next[1].at)) next = e;
      if (next === undefined) break;
      this.pending.delete(next[0]);
      this.nowMs = next[1].at;
      next[1].fn();
    }
    this.nowMs = end;
    await flush();
  }
}

/** flush lets pending promise callbacks run. */
export async function flush(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
}

/** setup connects a client to a fresh fake socket and fake timers. */
export function setup(o: Partial<ConnectOptions> = {}): { client: Client; timers: FakeTimers; errors: unknown[] } {
  FakeWebSocket.instances = [];
  const timers = new FakeTimers();
  const errors: unknown[] = [];
  const client = connect({ url: "wss://bridge.example/ws", token: "tok-1", WebSocket: FakeWebSocket, timers,
    onError: (e) => errors.push(e), backoff: { random: () => 0.5 }, ...o } as ConnectOptions);
  return { client, timers, errors };
}

/** openClient sets up a client and completes the handshake (hello) on its socket. */
export async function openClient(o: Partial<ConnectOptions> = {}, caps?: string[]) {
  const s = setup(o);
  await flush();
  const ws = FakeWebSocket.last;
  ws.open();
  ws.hello(caps);
  await flush();
  return { ...s, ws };
}
