#!/usr/bin/env python3
"""Run one comparison-benchmark operation with Python's stdlib imaplib.

The counterpart of bench/cmd/enginebench and bench/cmd/rawfloor: it reads
IMAPBENCH_ADDR, IMAPBENCH_USER and IMAPBENCH_PASSWORD, logs in, examines
INBOX, times the operation alone and prints one JSON line
{"seconds": ..., "items": ..., "bytes": ...}.

    python3 bench/imaplib_bench.py -op fetch-all
"""
import argparse
import imaplib
import json
import os
import sys
import time

LOOP_COUNT = 1000  # benchop.LoopCount
FETCH_ALL_ITEMS = "(RFC822)"
FETCH_ENVELOPE_ITEMS = "(FLAGS UID RFC822.SIZE ENVELOPE)"


def count(data):
    """Count FETCH responses (pairs are followed by a trailer) and literal bytes."""
    items, nbytes = 0, 0
    for d in data:
        if isinstance(d, tuple):
            nbytes += len(d[1])
        else:
            items += 1
    return items, nbytes


def check(typ, data):
    if typ != "OK":
        raise SystemExit("imaplib_bench: %s %r" % (typ, data))
    return data


def op_fetch_all(c):
    return count(check(*c.fetch("1:*", FETCH_ALL_ITEMS)))


def op_fetch_envelope(c):
    items, _ = count(check(*c.fetch("1:*", FETCH_ENVELOPE_ITEMS)))
    return items, 0


def op_fetch_loop(c):
    items, nbytes = 0, 0
    for n in range(1, LOOP_COUNT + 1):
        k, b = count(check(*c.fetch(str(n), FETCH_ALL_ITEMS)))
        items += k
        nbytes += b
    return items, nbytes


def op_noop(c):
    for _ in range(LOOP_COUNT):
        check(*c.noop())
    return LOOP_COUNT, 0


def op_uid_search(c):
    data = check(*c.uid("SEARCH", "ALL"))
    return sum(len(d.split()) for d in data if d), 0


OPS = {
    "fetch-all": op_fetch_all,
    "fetch-envelope": op_fetch_envelope,
    "fetch-loop": op_fetch_loop,
    "noop": op_noop,
    "uid-search": op_uid_search,
}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-op", required=True, choices=sorted(OPS))
    args = ap.parse_args()
    try:
        addr = os.environ["IMAPBENCH_ADDR"]
        user = os.environ["IMAPBENCH_USER"]
        password = os.environ["IMAPBENCH_PASSWORD"]
    except KeyError as e:
        raise SystemExit("imaplib_bench: set %s" % e)
    host, _, port = addr.rpartition(":")
    c = imaplib.IMAP4(host, int(port))
    c.login(user, password)
    check(*c.select("INBOX", readonly=True))
    start = time.perf_counter()
    items, nbytes = OPS[args.op](c)
    seconds = time.perf_counter() - start
    c.logout()
    json.dump({"seconds": seconds, "items": items, "bytes": nbytes}, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
