#!/usr/bin/env node
// Runs one comparison-benchmark operation with ImapFlow (npm `imapflow`), the
// Node IMAP client a user would pick instead of the engine (issue 17 item 1).
//
// Like bench/cmd/enginebench it reads IMAPBENCH_ADDR, IMAPBENCH_USER and
// IMAPBENCH_PASSWORD, logs in, examines INBOX, times the operation alone and
// prints one JSON line {"seconds": ..., "items": ..., "bytes": ...}.
//
//   node bench/peers/imapflow/bench.mjs -op fetch-all
//
// fetch-all: the `fetch('1:*', {source: true})` async iterator, every
// message's source Buffer kept to the end (as imaplib keeps its data);
// fetch-envelope: `{envelope, flags, uid, size}`; fetch-loop: `fetchOne(n,
// {source: true})` for n = 1..1000, each result counted and dropped; noop:
// 1000 × `noop()`; uid-search: `search({all: true}, {uid: true})`.
import { ImapFlow } from 'imapflow';

const LOOP_COUNT = 1000; // benchop.LoopCount

function die(msg) {
    process.stderr.write(`imapflow-bench: ${msg}\n`);
    process.exit(1);
}

const ops = {
    async 'fetch-all'(c) {
        const kept = [];
        let bytes = 0;
        for await (const msg of c.fetch('1:*', { source: true })) {
            if (!msg.source) die(`message ${msg.seq} has no source`);
            kept.push(msg);
            bytes += msg.source.length;
        }
        return [kept.length, bytes];
    },
    async 'fetch-envelope'(c) {
        const kept = [];
        for await (const msg of c.fetch('1:*', { envelope: true, flags: true, uid: true, size: true })) {
            if (!msg.envelope || !msg.uid || msg.size === undefined || !msg.flags) die(`message ${msg.seq} lacks an item`);
            kept.push(msg);
        }
        return [kept.length, 0];
    },
    async 'fetch-loop'(c) {
        let items = 0;
        let bytes = 0;
        for (let n = 1; n <= LOOP_COUNT; n++) {
            const msg = await c.fetchOne(String(n), { source: true });
            if (!msg || !msg.source) die(`message ${n} has no source`);
            items++;
            bytes += msg.source.length;
        }
        return [items, bytes];
    },
    async noop(c) {
        for (let i = 0; i < LOOP_COUNT; i++) {
            await c.noop();
        }
        return [LOOP_COUNT, 0];
    },
    async 'uid-search'(c) {
        const uids = await c.search({ all: true }, { uid: true });
        return [uids.length, 0];
    },
};

async function main() {
    const i = process.argv.indexOf('-op');
    const op = i >= 0 ? process.argv[i + 1] : undefined;
    if (!ops[op]) die(`usage: bench.mjs -op ${Object.keys(ops).join('|')}`);
    const { IMAPBENCH_ADDR: addr, IMAPBENCH_USER: user, IMAPBENCH_PASSWORD: pass } = process.env;
    if (!addr || !user || !pass) die('set IMAPBENCH_ADDR, IMAPBENCH_USER and IMAPBENCH_PASSWORD');
    const k = addr.lastIndexOf(':');
    const c = new ImapFlow({
        host: addr.slice(0, k),
        port: Number(addr.slice(k + 1)),
        secure: false,
        doSTARTTLS: false,
        auth: { user, pass },
        logger: false,
    });
    await c.connect();
    await c.mailboxOpen('INBOX', { readOnly: true });
    const start = process.hrtime.bigint();
    const [items, bytes] = await ops[op](c);
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    await c.logout();
    process.stdout.write(JSON.stringify({ seconds, items, bytes }) + '\n');
}

main().catch(err => die(err && err.stack ? err.stack : String(err)));
