/**
 * The SharedWorker script of @imapbridge/sdk/shared (dist/shared-worker.js).
 * Serve it from the page's origin and pass its URL as connectShared's
 * workerUrl (or keep it beside shared.js, the default).
 */
import { serveSharedWorker } from "./worker.js";

serveSharedWorker();
