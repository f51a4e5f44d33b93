/** A small typed event emitter: on() returns its own unsubscribe function. */

/** Handler receives one event payload. */
export type Handler<T> = (payload: T) => void;

/**
 * Emitter dispatches typed events. A throwing handler never breaks the SDK
 * or other handlers: its error goes to the onError callback.
 */
export class Emitter<M> {
  private readonly handlers = new Map<keyof M, Set<Handler<never>>>();

  /** Creates an Emitter reporting handler exceptions to onError. */
  constructor(private readonly onError: (e: unknown) => void) {}

  /** on registers handler for kind and returns a function that removes it. */
  on<K extends keyof M>(kind: K, handler: Handler<M[K]>): () => void {
    let set = this.handlers.get(kind);
    if (set === undefined) this.handlers.set(kind, (set = new Set()));
    set.add(handler as Handler<never>);
    return () => {
      set.delete(handler as Handler<never>);
    };
  }

  /** emit calls every handler of kind with payload, in registration order. */
  emit<K extends keyof M>(kind: K, payload: M[K]): void {
    const set = this.handlers.get(kind);
    if (set === undefined) return;
    for (const h of [...set]) {
      try {
        (h as Handler<M[K]>)(payload);
      } catch (e) {
        this.onError(e);
      }
    }
  }
}
