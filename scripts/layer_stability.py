#!/usr/bin/env python3
"""Is an item's best layer a property of the item, or noise that the oracle selects on?

For the test items of a `w2s run` output folder, measured under BASE and under other prompt variants (the same
items, other framings), this reads the sweep files and compares, per behaviour and variant V:
    fixed            the layer with the best mean steerability on BASE test items, scored on V
    oracle(V)        each item's best layer on V itself (the report's oracle: selects on V's own noise)
    transfer(BASE)   each item's best layer on BASE, scored on V: an oracle that never sees V
If transfer beats fixed, items keep their layer preferences across framings (a router has something to learn);
if it does not, the oracle's gain over fixed is selection on measurement noise. Standard library only.

    python3 scripts/layer_stability.py build/results/freetext
"""
import glob
import json
import os
import struct
import sys


def read_sweep(path):
    with open(path, "rb") as f:
        data = f.read()
    if data[:8] != b"W2SSWEEP":
        raise SystemExit(f"{path}: not a sweep file")
    version, hlen = struct.unpack_from("<IQ", data, 8)
    h = json.loads(data[20:20 + hlen])
    L, M = len(h["layers"]), len(h["multipliers"])
    E, H = len(h["embedding_layers"]), h["hidden"]
    orders = h.get("orders", 1)
    rec = 4 + 8 + 8 * (L * M + L + (2 * L if orders == 2 else 0)) + 4 * 2 * E * H
    pos, out = 20 + hlen, {}
    while pos + rec <= len(data):
        item = struct.unpack_from("<Q", data, pos + 4)[0]
        slope = struct.unpack_from(f"<{L}d", data, pos + 12 + 8 * L * M)
        out[item] = list(slope)
        pos += rec
    return h, out


def mean(v):
    return sum(v) / len(v) if v else float("nan")


def main():
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    root = sys.argv[1]
    rows = []
    for beh in sorted(os.listdir(root)):
        d = os.path.join(root, beh)
        base = glob.glob(os.path.join(d, "test_BASE_*.w2ssweep"))
        if not base:
            continue
        hb, sb = read_sweep(base[0])
        L = len(hb["layers"])
        fixed = max(range(L), key=lambda l: mean([s[l] for s in sb.values()]))
        for path in sorted(glob.glob(os.path.join(d, "test_*.w2ssweep"))):
            v = os.path.basename(path).split("_")[1]
            if v == "BASE":
                continue
            _, sv = read_sweep(path)
            items = sorted(set(sb) & set(sv))
            f = mean([sv[i][fixed] for i in items])
            o = mean([max(sv[i]) for i in items])
            t = mean([sv[i][max(range(L), key=lambda l: sb[i][l])] for i in items])
            same = mean([1.0 if max(range(L), key=lambda l: sb[i][l]) == max(range(L), key=lambda l: sv[i][l]) else 0.0 for i in items])
            rows.append((beh, v, len(items), f, t, o, same))
    print("| behaviour | variant | items | fixed (best BASE-test layer) | transfer: item's best BASE layer | oracle on the variant | same best layer |")
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: |")
    for beh, v, n, f, t, o, same in rows:
        print(f"| {beh} | {v} | {n} | {f:.3f} | {t:.3f} ({t / f:.3f}x) | {o:.3f} ({o / f:.3f}x) | {100 * same:.0f}% |")
    if rows:
        f, t, o = (mean([r[k] for r in rows]) for k in (3, 4, 5))
        print(f"| mean | | | {f:.3f} | {t:.3f} ({t / f:.3f}x) | {o:.3f} ({o / f:.3f}x) | {100 * mean([r[6] for r in rows]):.0f}% |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
