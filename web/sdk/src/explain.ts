/**
 * @imapbridge/sdk/explain — a connection failure in words for the person in
 * front of the page: what happened and what they can do. Kept out of the
 * core bundle; the words match docs/embedding.md ("Errors you will see").
 */
import type { FailureReason } from "./errors.js";

/** Explanation is a failure in words. */
export interface Explanation {
  /** summary says what happened, in one sentence. */
  readonly summary: string;
  /** action says what the user (or the site's operator) can do. */
  readonly action: string;
}

const WORDS: { readonly [R in FailureReason]: Explanation } = {
  session_limit: {
    summary: "Too many open sessions for this mail account.",
    action: "Close other tabs, windows or devices using this account; this page retries by itself every 30–60 seconds.",
  },
  token_refused: {
    summary: "The mail bridge did not accept this site's sign-in token.",
    action: "Sign in again; if it keeps happening, the site's token settings (key, issuer, audience) do not match the bridge.",
  },
  token_expired: {
    summary: "The sign-in token expired.",
    action: "Reconnecting with a fresh token; if that fails, sign in again.",
  },
  token_unavailable: {
    summary: "This site could not get a sign-in token for the mail bridge.",
    action: "Check that you are signed in to this site; it retries by itself.",
  },
  password_refused: {
    summary: "The mail server refused the password.",
    action: "Sign in again with the right password.",
  },
  origin_refused: {
    summary: "The mail bridge does not accept connections from this site.",
    action: "The site's operator must add this page's origin to the bridge's allowedOrigins.",
  },
  upstream_down: {
    summary: "The mail server cannot be reached right now.",
    action: "Nothing to do: this page reconnects as soon as the mail server is back.",
  },
  bridge_down: {
    summary: "The mail bridge cannot be reached.",
    action: "Check your network connection; this page reconnects by itself when the bridge is back.",
  },
  bridge_draining: {
    summary: "The mail bridge is restarting.",
    action: "Nothing to do: this page reconnects in a moment.",
  },
  bridge_busy: {
    summary: "The mail bridge is busy.",
    action: "Nothing to do: this page retries by itself shortly.",
  },
  connection_lost: {
    summary: "The connection to the mail bridge was lost.",
    action: "Reconnecting…",
  },
};

/** explainFailure returns the words for reason (a generic text for a reason this version does not know). */
export function explainFailure(reason: FailureReason | (string & {})): Explanation {
  return Object.hasOwn(WORDS, reason) ? WORDS[reason as FailureReason] : {
    summary: "The connection to the mail bridge failed.",
    action: "This page retries by itself.",
  };
}
