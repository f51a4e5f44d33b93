/** Reconnect delays: exponential backoff with full jitter. */

/** BACKOFF_BASE_MS is the default first reconnect ceiling (0.5 s). */
export const BACKOFF_BASE_MS = 500;
/** BACKOFF_CAP_MS is the default largest reconnect ceiling (30 s). */
export const BACKOFF_CAP_MS = 30_000;
/** STABLE_PERIOD_MS is how long a connection must stay open before the backoff resets (default 10 s). */
export const STABLE_PERIOD_MS = 10_000;

/** SLOW_RETRY_MS: after a session_limit refusal the client waits between this and twice this (30–60 s). */
export const SLOW_RETRY_MS = 30_000;

/** BackoffOptions tunes {@link Backoff}. */
export interface BackoffOptions {
  /** baseMs is the ceiling of the first delay (default {@link BACKOFF_BASE_MS}). */
  baseMs?: number;
  /** capMs bounds every delay (default {@link BACKOFF_CAP_MS}). */
  capMs?: number;
  /** stableMs is how long a connection must stay open to reset the attempt count (default {@link STABLE_PERIOD_MS}). */
  stableMs?: number;
  /** slowMs is the slow retry's base, for refusals only time can fix (default {@link SLOW_RETRY_MS}). */
  slowMs?: number;
  /** random returns a number in [0, 1); inject it for deterministic tests (default Math.random). */
  random?: () => number;
}

/**
 * Backoff yields full-jitter delays: attempt n waits a uniform random time in
 * [0, min(cap, base·2ⁿ)), so a crowd of clients spreads out instead of
 * stampeding a restarted bridge.
 */
export class Backoff {
  /** baseMs is the first ceiling. */
  readonly baseMs: number;
  /** capMs bounds every delay. */
  readonly capMs: number;
  /** stableMs is the stable period before reset. */
  readonly stableMs: number;
  /** slowMs is the slow retry's base. */
  readonly slowMs: number;
  private readonly random: () => number;
  private n = 0;

  /** Creates a Backoff with the given options. */
  constructor(o: BackoffOptions = {}) {
    this.baseMs = o.baseMs ?? BACKOFF_BASE_MS;
    this.capMs = o.capMs ?? BACKOFF_CAP_MS;
    this.stableMs = o.stableMs ?? STABLE_PERIOD_MS;
    this.slowMs = o.slowMs ?? SLOW_RETRY_MS;
    this.random = o.random ?? Math.random;
  }

  /** attempt is the number of delays handed out since the last reset. */
  get attempt(): number {
    return this.n;
  }

  /** ceiling returns the upper bound of the delay for attempt n. */
  ceiling(n: number): number {
    return Math.min(this.capMs, this.baseMs * 2 ** Math.min(n, 30));
  }

  /** next returns the next delay in ms and advances the attempt count. */
  next(): number {
    const r = Math.min(Math.max(this.random(), 0), 1);
    return Math.floor(r * this.ceiling(this.n++));
  }

  /** slow returns a delay in [slowMs, 2·slowMs), leaving the attempt count alone. */
  slow(): number {
    return Math.floor(this.slowMs * (1 + Math.min(Math.max(this.random(), 0), 1)));
  }

  /** reset starts over at attempt 0 (after a stable connection). */
  reset(): void {
    this.n = 0;
  }
}
