#!/usr/bin/env python3
"""A label-shuffled control of a free-text contrast-pair file (JSONL {prompt, positive, negative}).

Each pair's positive and negative replies are exchanged with probability 1/2 (fixed seed), so the mean
difference of the control has no consistent behaviour in it. Run through `w2s run` beside the real file, it
shows what the pipeline reports when there is nothing to steer (the oracle, a maximum over noisy layers, is
positive even then). The output goes where it is told (build/, never the repository's data).

    python3 scripts/make_shuffled_control.py examples/data/freetext/sentiment.jsonl build/control/sentiment-shuffled.jsonl
"""
import json
import os
import random
import sys


def main():
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    src, dst = sys.argv[1], sys.argv[2]
    rng = random.Random(20261201)
    out = []
    with open(src, encoding="utf-8") as f:
        for line in f:
            if not line.strip():
                continue
            r = json.loads(line)
            if rng.random() < 0.5:
                r["positive"], r["negative"] = r["negative"], r["positive"]
            out.append(json.dumps(r, ensure_ascii=False))
    os.makedirs(os.path.dirname(os.path.abspath(dst)), exist_ok=True)
    with open(dst, "w", encoding="utf-8") as f:
        f.write("\n".join(out) + "\n")
    print(f"{dst}: {len(out)} pairs, labels shuffled")
    return 0


if __name__ == "__main__":
    sys.exit(main())
