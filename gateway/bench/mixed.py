#!/usr/bin/env python3
"""Mixed read/write load for gateway/bench/cache: product pages with a share of restocks.

Each worker keeps one connection and, per request, picks a demo SKU: with probability
WRITE_SHARE it restocks it by one unit as staff, else it reads the product page anonymously.
Restocks only ever raise `available` (nothing else writes during the run), so a read of a SKU
after this worker's own restock of it must show at least what the restock returned: a lower
value is a stale read. Prints one RESULT line: reads, writes, reads checked against an earlier
own write, stale reads, cache hits among reads (the `x-polygate-cache` header), errors.

    mixed.py URL SECONDS WORKERS WRITE_SHARE STAFF_TOKEN
"""
import http.client
import json
import random
import sys
import threading
import time
import urllib.parse
import uuid

SKUS = ["MUG-01", "KETTLE-01", "KNIFE-01", "NOTEBOOK-A5", "PEN-01", "LAMP-01", "BOTTLE-01", "TENT-2P"]
# The same document as gateway/bench/product-page.lua.
PAGE = ("query Page($sku: String!) { product(sku: $sku) { sku name price { amountMinor currency } "
        "available description brand rating { count average } "
        "variants { sku priceDeltaMinor options { name value } } reviews(first: 3) { nodes { title rating } } } }")
RESTOCK = ('mutation Restock($sku: String!, $key: String!) { restock(input: {sku: $sku, warehouse: "BER-1", '
           'quantity: 1, idempotencyKey: $key}) { sku available } }')


def worker(url, deadline, write_share, token, totals, lock, seed):
    rng = random.Random(seed)
    parts = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    written = {}  # sku -> `available` our last restock of it returned
    mine = dict(reads=0, writes=0, checked=0, stale=0, hits=0, errors=0)

    def post(query, variables, headers):
        body = json.dumps({"query": query, "variables": variables})
        conn.request("POST", parts.path, body, {"content-type": "application/json", **headers})
        response = conn.getresponse()
        payload = json.loads(response.read())
        if response.status != 200 or payload.get("errors"):
            mine["errors"] += 1
            if mine["errors"] == 1:
                print(f"first error ({query.split('(')[0]}): {json.dumps(payload)[:300]}", file=sys.stderr)
            return None, None
        return payload["data"], response.getheader("x-polygate-cache")

    while time.monotonic() < deadline:
        sku = rng.choice(SKUS)
        if rng.random() < write_share:
            data, _ = post(RESTOCK, {"sku": sku, "key": str(uuid.UUID(int=rng.getrandbits(128)))},
                           {"authorization": f"Bearer {token}"})
            mine["writes"] += 1
            if data:
                written[sku] = data["restock"]["available"]
        else:
            data, cache = post(PAGE, {"sku": sku}, {})
            mine["reads"] += 1
            if data:
                mine["hits"] += cache == "hit"
                if sku in written:
                    mine["checked"] += 1
                    mine["stale"] += data["product"]["available"] < written[sku]
    with lock:
        for k, v in mine.items():
            totals[k] += v


def main():
    url, seconds, workers, write_share, token = sys.argv[1:]
    totals = dict(reads=0, writes=0, checked=0, stale=0, hits=0, errors=0)
    lock = threading.Lock()
    started = time.monotonic()
    deadline = started + float(seconds)
    threads = [threading.Thread(target=worker, args=(url, deadline, float(write_share), token, totals, lock, i))
               for i in range(int(workers))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - started
    print("RESULT " + " ".join(f"{k}={v}" for k, v in totals.items())
          + f" rps={(totals['reads'] + totals['writes']) / elapsed:.1f}")


if __name__ == "__main__":
    main()
