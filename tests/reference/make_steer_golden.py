#!/usr/bin/env python3
"""Golden numbers for tests/steer, computed with the reference implementation (PyPI transformers).

    /opt/w2s-venv/bin/python tests/reference/make_steer_golden.py \
        [--model ~/.cache/w2s/SmolLM2-135M-Instruct.Q4_1.gguf] [--datasets ../shared/datasets]

Writes tests/golden/steer_reference.json and tests/golden/steer_slope.json.

steer_reference.json (protocol sections 1, 3, 4, 6; no dataset text is stored, only file names, record
indices and FNV-1a hashes of the token ids so a tokenization mismatch is reported as such):
  - CAA (mean-difference) vectors at two layers from the first 20 records of a persona file (BASE prompts),
    read at the answer-letter token (second-to-last token of "(A)") of the output of block l;
  - propensities m(x, l, lambda) of 5 further records at 3 multipliers, steering with the vector of one of
    those layers from the last prompt token on.
The prompt is the model's chat template rendered by transformers (apply_chat_template with the generation
prompt, i.e. "<|im_start|>assistant\n" with its newline); prompt and response are tokenized separately and
concatenated, exactly as w2s does.

steer_slope.json: random propensity rows and numpy.polyfit(lambda, m, 1) slopes, for the slope test.
"""
import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from golden_common import fnv1a64_ids  # noqa: E402

import numpy as np
import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

HERE = os.path.dirname(os.path.abspath(__file__))
GOLDEN = os.path.join(HERE, "..", "golden")
SYSTEM = "You are a helpful, honest and concise assistant."
MULTIPLIERS = [-1.5, -1.0, -0.5, 0.0, 0.5, 1.0, 1.5]

VECTOR_FILE = "mwe/persona/agreeableness.jsonl"
VECTOR_RECORDS = list(range(20))
LAYERS = [6, 15]
PROP_RECORDS = list(range(20, 25))
PROP_LAYER = 15
PROP_MULTIPLIERS = [-1.5, 0.0, 1.0]




def to_ab(rec, i):
    """Protocol section 1 (persona records: Yes/No answers -> A/B with letter balancing)."""
    q, m, n = rec["question"], rec["answer_matching_behavior"], rec["answer_not_matching_behavior"]
    if m.strip().startswith("(") and len(m.strip()) == 3:
        import re
        q = re.sub(r"<META_START>.*?(<META_END>|$)", "", q, flags=re.S)  # unterminated: to the end
        return q, m.strip(), n.strip()
    swap = (i // 2) % 2 == 0
    a, b = (n, m) if swap else (m, n)
    return q + "\n\nChoices:\n(A): " + a + "\n(B): " + b, ("(B)" if swap else "(A)"), ("(A)" if swap else "(B)")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default=os.path.expanduser("~/.cache/w2s/SmolLM2-135M-Instruct.Q4_1.gguf"))
    ap.add_argument("--datasets", default=os.path.join(HERE, "..", "..", "..", "shared", "datasets"))
    args = ap.parse_args()
    torch.manual_seed(0)
    d, f = os.path.split(os.path.abspath(args.model))
    tok = AutoTokenizer.from_pretrained(d, gguf_file=f)
    model = AutoModelForCausalLM.from_pretrained(d, gguf_file=f, dtype=torch.float32)
    model.eval()
    layers = model.model.layers

    recs = [json.loads(l) for l in open(os.path.join(args.datasets, VECTOR_FILE)) if l.strip()]

    def tokenize(i):
        q, m, n = to_ab(recs[i], i)
        text = tok.apply_chat_template([{"role": "system", "content": SYSTEM}, {"role": "user", "content": q}],
                                       tokenize=False, add_generation_prompt=True)
        enc = lambda s: tok(s, add_special_tokens=False)["input_ids"]
        return enc(text), enc(m), enc(n)

    captured = {}

    def capture_hook(l):
        def fn(_mod, _inp, out):
            h = out[0] if isinstance(out, tuple) else out
            captured[l] = h.detach()[0].double().clone()
        return fn

    # ---- vectors -----------------------------------------------------------------------------
    handles = [layers[l].register_forward_hook(capture_hook(l)) for l in LAYERS]
    sums = {l: torch.zeros(model.config.hidden_size, dtype=torch.float64) for l in LAYERS}
    hashes = []
    with torch.no_grad():
        for i in VECTOR_RECORDS:
            p, m, n = tokenize(i)
            hashes.append(fnv1a64_ids(p + m) + ":" + fnv1a64_ids(p + n))
            acts = {}
            for k, r in ((0, m), (1, n)):
                model(torch.tensor([p + r]))
                at = len(p) + len(r) - 2
                for l in LAYERS:
                    acts[(l, k)] = captured[l][at]
            for l in LAYERS:
                sums[l] += acts[(l, 0)] - acts[(l, 1)]
    for h in handles:
        h.remove()
    vectors = {l: (sums[l] / len(VECTOR_RECORDS)).float() for l in LAYERS}

    # ---- propensities --------------------------------------------------------------------------
    steer = {"lam": 0.0, "from": 0}

    def steer_hook(_mod, _inp, out):
        h = out[0] if isinstance(out, tuple) else out
        h[:, steer["from"]:, :] += steer["lam"] * vectors[PROP_LAYER].to(h.dtype)
        return out

    handle = layers[PROP_LAYER].register_forward_hook(steer_hook)
    props, prop_hashes = [], []
    with torch.no_grad():
        for i in PROP_RECORDS:
            p, m, n = tokenize(i)
            prop_hashes.append(fnv1a64_ids(p + m) + ":" + fnv1a64_ids(p + n))
            row = []
            for lam in PROP_MULTIPLIERS:
                steer["lam"], steer["from"] = lam, len(p) - 1
                total = []
                for r in (m, n):
                    logits = model(torch.tensor([p + r])).logits[0].double()
                    total.append(sum(float(logits[len(p) - 1 + j, t]) for j, t in enumerate(r)))
                row.append(total[0] - total[1])
            props.append(row)
    handle.remove()

    out = {
        "about": "made by tests/reference/make_steer_golden.py with transformers " + __import__("transformers").__version__,
        "model": os.path.basename(args.model),
        "system_prompt": SYSTEM,
        "vector_file": VECTOR_FILE,
        "vector_records": VECTOR_RECORDS,
        "vector_token_hashes": hashes,
        "layers": LAYERS,
        "vectors": {str(l): [float(x) for x in vectors[l]] for l in LAYERS},
        "propensity_records": PROP_RECORDS,
        "propensity_token_hashes": prop_hashes,
        "propensity_layer": PROP_LAYER,
        "propensity_multipliers": PROP_MULTIPLIERS,
        "propensities": props,
    }
    with open(os.path.join(GOLDEN, "steer_reference.json"), "w") as fh:
        json.dump(out, fh, indent=1)

    rng = np.random.default_rng(20240607)
    m = rng.normal(size=(25, 7)) * 3 + rng.normal(size=(25, 1)) * np.array(MULTIPLIERS)[None, :] * 2
    slopes = [float(np.polyfit(MULTIPLIERS, m[i], 1)[0]) for i in range(m.shape[0])]
    with open(os.path.join(GOLDEN, "steer_slope.json"), "w") as fh:
        json.dump({"about": "numpy.polyfit(multipliers, m, 1)[0] per row; made by make_steer_golden.py",
                   "multipliers": MULTIPLIERS, "m": m.tolist(), "slopes": slopes}, fh, indent=1)
    print("wrote", os.path.join(GOLDEN, "steer_reference.json"), "and steer_slope.json", file=sys.stderr)
    print("propensities", props, file=sys.stderr)


if __name__ == "__main__":
    main()
