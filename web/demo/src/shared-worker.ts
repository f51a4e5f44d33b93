/** The demo's SharedWorker (/shared-worker.js): the SDK's, built into the embedded demo. */
import { serveSharedWorker } from "../../sdk/src/worker.js";

serveSharedWorker();
