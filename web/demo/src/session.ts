/**
 * The demo's connection: a dev token from POST /dev/token on every
 * (re)connect, and the IMAP password that came with it for login. All tabs
 * (webmail and widget) share one bridge session (@imapbridge/sdk/shared).
 */
import type { Client } from "../../sdk/src/index.js";
import { connectShared } from "../../sdk/src/shared.js";

/** TOKEN_PATH is the bridge's loopback-only development token endpoint. */
export const TOKEN_PATH = "/dev/token";
/** WS_PATH is the bridge's WebSocket endpoint. */
export const WS_PATH = "/ws";
/** WORKER_PATH is the SDK's SharedWorker, which holds the one WebSocket all the demo's tabs share. */
export const WORKER_PATH = "/shared-worker.js";

/** DevToken is the answer of POST /dev/token. */
interface DevToken {
  readonly token: string;
  readonly user: string;
  readonly password: string;
  readonly expiresIn: number;
}

function isDevToken(v: unknown): v is DevToken {
  if (typeof v !== "object" || v === null) return false;
  const d = v as Record<string, unknown>;
  return typeof d["token"] === "string" && typeof d["password"] === "string" && typeof d["user"] === "string";
}

/** Session is a connected client and the IMAP user it is logged in as. */
export interface Session {
  readonly client: Client;
  /** user is the IMAP user of the last token ("" before the first). */
  user(): string;
}

/**
 * openSession connects to this origin's bridge. The token provider fetches a
 * fresh token for every (re)connect, so an expired token is replaced rather
 * than replayed; the login callback sends the password that came with it.
 */
export function openSession(onError: (e: unknown) => void): Session {
  let password = "";
  let user = "";
  const proto = location.protocol === "https:" ? "wss:" : "ws:";
  const client = connectShared({
    url: `${proto}//${location.host}${WS_PATH}`,
    // A page that itself came over plain http (the embedded demo reached through a LAN address or a
    // published container port) gains nothing from refusing ws:// to its own host: the token came the same way.
    allowInsecure: proto === "ws:",
    workerUrl: WORKER_PATH,
    token: async () => {
      const res = await fetch(TOKEN_PATH, { method: "POST", cache: "no-store", credentials: "same-origin" });
      if (!res.ok) {
        // The endpoint says why in its body (e.g. a configured demo reached from a non-loopback address).
        const why = (await res.text().catch(() => "")).trim().slice(0, 300);
        throw new Error(`The token endpoint ${TOKEN_PATH} answered ${res.status}${why === "" ? "" : ": " + why}`);
      }
      const body: unknown = await res.json();
      if (!isDevToken(body)) throw new Error("demo: malformed token answer");
      password = body.password;
      user = body.user;
      return body.token;
    },
    login: () => password,
    onError,
  });
  return { client, user: () => user };
}
