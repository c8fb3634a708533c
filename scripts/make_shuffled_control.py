#!/usr/bin/env python3
"""A label-shuffled control of a free-text contrast-pair file (JSONL {prompt, positive, negative}, or
{prompt, pairs: [{positive, negative[, template]}, ...]} with several reply pairs per prompt).

Each pair's positive and negative replies are exchanged with probability 1/2 (fixed seed), each pair of a
multi-pair record independently, so the mean difference of the control has no consistent behaviour in it.
Every other field (template, system, ...) and the key order are kept. Run through `w2s run` beside the real file, it
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
    pairs = swapped = 0
    with open(src, encoding="utf-8") as f:
        for line in f:
            if not line.strip():
                continue
            r = json.loads(line)
            for p in r["pairs"] if "pairs" in r else [r]:
                pairs += 1
                if rng.random() < 0.5:
                    p["positive"], p["negative"] = p["negative"], p["positive"]
                    swapped += 1
            out.append(json.dumps(r, ensure_ascii=False))
    os.makedirs(os.path.dirname(os.path.abspath(dst)), exist_ok=True)
    with open(dst, "w", encoding="utf-8") as f:
        f.write("\n".join(out) + "\n")
    print(f"{dst}: {len(out)} prompts, {pairs} pairs, {swapped} exchanged, labels shuffled")
    return 0


if __name__ == "__main__":
    sys.exit(main())
