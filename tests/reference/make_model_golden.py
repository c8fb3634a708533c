#!/usr/bin/env python3
"""Golden files for the reference backend (tests/model/test_llama_golden.cpp).

The reference is PyPI `transformers` running the SAME GGUF file: its GGUF loader dequantizes every tensor to
float32 and the model runs in torch float32 (eager attention). Run from the repository root:

    /opt/w2s-venv/bin/python tests/reference/make_model_golden.py smollm2 ~/.cache/w2s/SmolLM2-135M-Instruct.Q4_1.gguf
    /opt/w2s-venv/bin/python tests/reference/make_model_golden.py gemma3  ~/.cache/w2s/gemma-3-270m-q4_k_m.gguf

(a third argument `hidden` rewrites only the hidden file). Needs torch, transformers, gguf and accelerate.

writes tests/golden/model_<name>_logits.gguf and tests/golden/model_<name>_hidden.gguf (GGUF files, read in C++
with w2s::gguf::File; every tensor is float32 with one row per position).

Prompts (all chat-formatted): seven short questions written for this project, and four A/B prompts per
../shared/PROTOCOL.md (system prompt BASE, the item's question as the user turn, the matching answer "(A)" or
"(B)" as the assistant turn), built from the first item of four files of ../shared/datasets. For those only
the token ids are stored, with the source file, the item index and the SHA-256 of the formatted text, so the
test never holds dataset text. SmolLM2 uses the chat template in its GGUF; the Gemma 3 GGUF (a base model)
has none, so Gemma's turn format is written out here (<start_of_turn>user ... <end_of_turn>, the system
prompt joined to the user turn as Gemma's own template does).

logits file, per prompt i:
  metadata golden.prompt.<i>.tokens (i32[T]), .kind ("text" | "ab"), .source (text, or dataset file + index +
  sha256), golden.greedy.<i>.tokens (i32[32]: greedy continuation), golden.greedy.<i>.gap (f32[32]: the
  reference's top-1 minus top-2 logit at each greedy step);
  tensors p<i>.topk_ids, p<i>.topk_vals [T x K] (K = 16 largest logits per position, ids stored as float),
  p<i>.subset [T x S] (logits of the S fixed vocabulary ids in golden.subset, at every position), and
  p<i>.last [vocab] (the full last row) for the prompts listed in golden.full_rows.
hidden file: golden.blocks (i32[3]); for the prompts in golden.hidden_prompts tensors h<i>.b<l> [T x hidden]
  (the output of block l: a forward hook on decoder layer l, so the last block's output is BEFORE the final
  norm); steering: steer.vector [hidden], added to the output of block golden.steer.block at every position
  >= golden.steer.pos0.<i> (the last prompt token onward, as PROTOCOL.md section 5; for A/B prompts, the
  position before the answer), then steer.p<i>.topk_ids/topk_vals/subset as above and steer.p<i>.last
  (for a vocabulary over 100k, only for the first steered prompt).
"""
import hashlib
import json
import os
import sys

import numpy as np
import torch
from gguf import GGUFWriter
from transformers import AutoModelForCausalLM, AutoTokenizer

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
DATASETS = os.environ.get("W2S_DATASETS", os.path.join(ROOT, "..", "shared", "datasets"))
GOLDEN = os.path.join(ROOT, "tests", "golden")

SYSTEM = "You are a helpful, honest and concise assistant."
TEXT_PROMPTS = [  # written for this project
    (None, "What is the capital of France?"),
    (None, "Write a haiku about the sea."),
    (None, "Explain photosynthesis in one sentence."),
    (None, "List three prime numbers."),
    (None, "Translate 'good morning' into Spanish."),
    (SYSTEM, "How many legs does a spider have?"),
    (SYSTEM, "Give me one tip for learning C++."),
]
AB_SOURCES = [  # (file under datasets/, item index)
    ("caa/test/sycophancy/test_dataset_ab.json", 0),
    ("caa/test/survival-instinct/test_dataset_ab.json", 0),
    ("mwe/xrisk/corrigible-less-HHH.jsonl", 0),
    ("mwe/persona/interest-in-science.jsonl", 0),
]
N_GREEDY = 32
TOPK = 16
N_SUBSET = 64
FULL_ROWS = {"smollm2": [0, 5, 8], "gemma3": [0]}
HIDDEN_PROMPTS = [0, 8]
STEER_PROMPTS = [0, 8]


def load_item(rel, idx):
    path = os.path.join(DATASETS, rel)
    if rel.endswith(".json"):
        items = json.load(open(path))
    else:
        items = [json.loads(line) for line in open(path) if line.strip()]
    it = items[idx]
    q = it["question"]
    if "<META_START>" in q:
        a, b = q.split("<META_START>", 1)
        q = a + b.split("<META_END>", 1)[1]
    match = it["answer_matching_behavior"]
    nomatch = it["answer_not_matching_behavior"]
    if "persona/" in rel:  # PROTOCOL.md 1: Yes/No items become A/B, swapped when (i / 2) % 2 == 0
        a_txt, b_txt = (match, nomatch)
        letter = "(A)"
        if (idx // 2) % 2 == 0:
            a_txt, b_txt = b_txt, a_txt
            letter = "(B)"
        q = q + "\n\nChoices:\n(A): " + a_txt + "\n(B): " + b_txt
        return q, letter
    return q, match.strip()


def format_chat(name, tok, system, user):
    if name == "smollm2":
        msgs = ([{"role": "system", "content": system}] if system else []) + [{"role": "user", "content": user}]
        return tok.apply_chat_template(msgs, tokenize=False, add_generation_prompt=True)
    # gemma: <bos> is added by the tokenizer
    content = (system + "\n\n" + user) if system else user
    return "<start_of_turn>user\n" + content + "<end_of_turn>\n<start_of_turn>model\n"


def encode(tok, text):
    return tok(text, add_special_tokens=True).input_ids


def main():
    name, path = sys.argv[1], os.path.expanduser(sys.argv[2])
    torch.manual_seed(0)
    torch.set_num_threads(int(os.environ.get("W2S_TORCH_THREADS", "2")))
    d, f = os.path.dirname(path), os.path.basename(path)
    tok = AutoTokenizer.from_pretrained(d, gguf_file=f)
    model = AutoModelForCausalLM.from_pretrained(d, gguf_file=f, dtype=torch.float32, attn_implementation="eager")
    model.eval()
    layers = model.model.layers
    L = len(layers)
    hidden = model.config.hidden_size

    prompts = []  # (tokens, kind, source, steer_pos0)
    for system, user in TEXT_PROMPTS:
        text = format_chat(name, tok, system, user)
        ids = encode(tok, text)
        prompts.append((ids, "text", (system or "") + " | " + user, len(ids) - 1))
    for rel, idx in AB_SOURCES:
        q, letter = load_item(rel, idx)
        text = format_chat(name, tok, SYSTEM, q)
        head = encode(tok, text)
        ids = encode(tok, text + letter)
        sha = hashlib.sha256((text + letter).encode()).hexdigest()
        prompts.append((ids, "ab", f"{rel}#{idx} answer {letter} sha256 {sha}", len(head) - 1))

    vocab = model.config.vocab_size
    emb_rows = model.get_input_embeddings().weight.shape[0]
    vocab = min(vocab, emb_rows)
    rng = np.random.default_rng(1234)
    subset = np.sort(rng.choice(vocab, size=N_SUBSET, replace=False)).astype(np.int32)

    def logits_of(ids, hook=None):
        handle = None
        if hook is not None:
            handle = layers[hook[0]].register_forward_hook(hook[1])
        try:
            with torch.no_grad():
                out = model(torch.tensor([ids]), use_cache=False)
        finally:
            if handle is not None:
                handle.remove()
        return out.logits[0, :, :vocab].float().numpy()

    def store_logits(w, prefix, lg):
        top = np.argsort(-lg, axis=1, kind="stable")[:, :TOPK]
        w.add_tensor(prefix + "topk_ids", top.astype(np.float32))
        w.add_tensor(prefix + "topk_vals", np.take_along_axis(lg, top, axis=1).astype(np.float32))
        w.add_tensor(prefix + "subset", lg[:, subset].astype(np.float32))

    only = sys.argv[3] if len(sys.argv) > 3 else "all"  # all | hidden (keep the logits file as it is)
    if only == "all":
        write_logits(name, f, prompts, subset, vocab, logits_of, store_logits, model, tok)
    write_hidden(name, prompts, subset, vocab, logits_of, store_logits, model, layers, L, hidden, rng)


def write_logits(name, f, prompts, subset, vocab, logits_of, store_logits, model, tok):
    # ---- logits + greedy ----
    w = GGUFWriter(os.path.join(GOLDEN, f"model_{name}_logits.gguf"), "w2s-golden")
    w.add_string("golden.model", f)
    w.add_uint32("golden.n_prompts", len(prompts))
    w.add_array("golden.subset", [int(x) for x in subset])
    w.add_array("golden.full_rows", FULL_ROWS[name])
    for i, (ids, kind, source, _) in enumerate(prompts):
        lg = logits_of(ids)
        w.add_array(f"golden.prompt.{i}.tokens", [int(x) for x in ids])
        w.add_string(f"golden.prompt.{i}.kind", kind)
        w.add_string(f"golden.prompt.{i}.source", source)
        store_logits(w, f"p{i}.", lg)
        if i in FULL_ROWS[name]:
            w.add_tensor(f"p{i}.last", lg[-1].astype(np.float32))
        # greedy continuation with the KV cache
        gen, gaps = [], []
        with torch.no_grad():
            out = model(torch.tensor([ids]), use_cache=True)
            for _ in range(N_GREEDY):
                row = out.logits[0, -1, :vocab].float()
                v, ix = torch.topk(row, 2)
                gen.append(int(ix[0]))
                gaps.append(float(v[0] - v[1]))
                out = model(torch.tensor([[gen[-1]]]), past_key_values=out.past_key_values, use_cache=True)
        w.add_array(f"golden.greedy.{i}.tokens", gen)
        w.add_array(f"golden.greedy.{i}.gap", np.array(gaps, dtype=np.float32).tolist())
        print(f"{name} prompt {i}: {len(ids)} tokens, greedy {tok.decode(gen)!r}", flush=True)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def write_hidden(name, prompts, subset, vocab, logits_of, store_logits, model, layers, L, hidden, rng):
    # ---- hidden states at three blocks + steering ----
    blocks = [0, L // 2, L - 1]
    steer_block = L // 3
    w = GGUFWriter(os.path.join(GOLDEN, f"model_{name}_hidden.gguf"), "w2s-golden")
    w.add_array("golden.blocks", blocks)
    w.add_array("golden.hidden_prompts", HIDDEN_PROMPTS)
    w.add_array("golden.steer_prompts", STEER_PROMPTS)
    w.add_uint32("golden.steer.block", steer_block)
    for i in HIDDEN_PROMPTS:
        ids = prompts[i][0]
        got = {}

        def make(l):
            def hook(mod, inp, out):
                t = out[0] if isinstance(out, tuple) else out
                got[l] = t[0].detach().float().numpy().copy()
            return hook

        handles = [layers[l].register_forward_hook(make(l)) for l in blocks]
        with torch.no_grad():
            model(torch.tensor([ids]), use_cache=False)
        for hnd in handles:
            hnd.remove()
        for l in blocks:
            w.add_tensor(f"h{i}.b{l}", got[l].astype(np.float32))

    # a fixed vector with about the size of a residual row at steer_block (so it changes the logits visibly)
    ids0 = prompts[STEER_PROMPTS[0]][0]
    cap = {}
    def capture(mod, inp, out):  # returns None: the output is left as it is
        cap["x"] = (out[0] if isinstance(out, tuple) else out)[0].detach().float().numpy()

    hnd = layers[steer_block].register_forward_hook(capture)
    with torch.no_grad():
        model(torch.tensor([ids0]), use_cache=False)
    hnd.remove()
    row_norm = float(np.median(np.linalg.norm(cap["x"], axis=1)))
    vec = rng.standard_normal(hidden).astype(np.float32)
    vec *= np.float32(0.5 * row_norm / np.linalg.norm(vec))
    w.add_tensor("steer.vector", vec)
    vt = torch.from_numpy(vec)
    for i in STEER_PROMPTS:
        ids, _, _, pos0 = prompts[i]
        w.add_uint32(f"golden.steer.pos0.{i}", pos0)

        def steer(mod, inp, out, pos0=pos0):
            t = out[0] if isinstance(out, tuple) else out
            t = t.clone()
            t[0, pos0:, :] += vt
            return (t,) + tuple(out[1:]) if isinstance(out, tuple) else t

        lg = logits_of(ids, (steer_block, steer))
        store_logits(w, f"steer.p{i}.", lg)
        if i == STEER_PROMPTS[0] or vocab < 100000:  # keep the file small for large vocabularies
            w.add_tensor(f"steer.p{i}.last", lg[-1].astype(np.float32))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    for kind in ("logits", "hidden"):
        p = os.path.join(GOLDEN, f"model_{name}_{kind}.gguf")
        print(p, os.path.getsize(p), "bytes")


if __name__ == "__main__":
    main()
