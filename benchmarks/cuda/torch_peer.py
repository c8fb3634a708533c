#!/usr/bin/env python3
"""The peer of bench_cuda: the naive per-item layer sweep written with PyTorch forward hooks, on the same shapes.

    python3 benchmarks/cuda/torch_peer.py BENCH.json [--items-small 3] [--items-7b 2]

Reads the JSON that `bench_cuda --json BENCH.json` wrote (model shapes, prompt/response lengths, multipliers and
the C++ figures), builds a plain Llama in PyTorch (fp16, random weights: speed depends on the shapes only; SDPA
attention, no KV cache), and times for each configuration:
  - pp: one forward of the pp prompt (tokens/s);
  - the naive sweep: per item, one unsteered forward of both responses (batch 2, prompt ++ response without its
    last token), then for every layer and every non-zero multiplier a forward hook on that block adds
    lambda * v_l to the positions from the last prompt token on, and the whole batch is run again — 1 + L x 6
    full forwards per item, the way steering sweeps are usually written with hooks.
Prints the table of both and the ratios (w2s CUDA / PyTorch). Needs torch with a CUDA device.
"""
import argparse
import json
import math
import os
import sys
import time

import torch
import torch.nn.functional as F


class Block(torch.nn.Module):
    def __init__(self, s, dev, dt):
        super().__init__()
        D, Fd, nh, nkv, hd = s["hidden"], s["ffn"], s["n_head"], s["n_head_kv"], s["head_dim"]
        self.nh, self.nkv, self.hd, self.eps = nh, nkv, hd, s["eps"]

        def lin(n_in, n_out):
            a = math.sqrt(3.0 / n_in)
            return torch.nn.Parameter(torch.empty(n_out, n_in, device=dev, dtype=dt).uniform_(-a, a), requires_grad=False)

        self.wq, self.wk, self.wv = lin(D, nh * hd), lin(D, nkv * hd), lin(D, nkv * hd)
        self.wo = lin(nh * hd, D)
        self.wg, self.wu, self.wd = lin(D, Fd), lin(D, Fd), lin(Fd, D)
        self.n1 = torch.nn.Parameter(torch.ones(D, device=dev, dtype=dt), requires_grad=False)
        self.n2 = torch.nn.Parameter(torch.ones(D, device=dev, dtype=dt), requires_grad=False)

    def norm(self, x, w):
        xf = x.float()
        return (xf * torch.rsqrt(xf.pow(2).mean(-1, keepdim=True) + self.eps)).to(x.dtype) * w

    def forward(self, x, cos, sin):
        B, T, _ = x.shape
        h = self.norm(x, self.n1)
        q = F.linear(h, self.wq).view(B, T, self.nh, self.hd).transpose(1, 2)
        k = F.linear(h, self.wk).view(B, T, self.nkv, self.hd).transpose(1, 2)
        v = F.linear(h, self.wv).view(B, T, self.nkv, self.hd).transpose(1, 2)

        def rope(t):
            t1, t2 = t[..., : self.hd // 2], t[..., self.hd // 2:]
            return t * cos + torch.cat((-t2, t1), -1) * sin

        q, k = rope(q), rope(k)
        if self.nkv != self.nh:
            k = k.repeat_interleave(self.nh // self.nkv, dim=1)
            v = v.repeat_interleave(self.nh // self.nkv, dim=1)
        a = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        x = x + F.linear(a.transpose(1, 2).reshape(B, T, -1), self.wo)
        h = self.norm(x, self.n2)
        return x + F.linear(F.silu(F.linear(h, self.wg)) * F.linear(h, self.wu), self.wd)


class Llama(torch.nn.Module):
    def __init__(self, s, dev, dt):
        super().__init__()
        self.s = s
        self.emb = torch.nn.Parameter(torch.empty(s["vocab"], s["hidden"], device=dev, dtype=dt).uniform_(-1, 1),
                                      requires_grad=False)
        self.layers = torch.nn.ModuleList(Block(s, dev, dt) for _ in range(s["n_layers"]))
        self.nf = torch.nn.Parameter(torch.ones(s["hidden"], device=dev, dtype=dt), requires_grad=False)

    def forward(self, ids):
        T = ids.shape[1]
        hd = self.s["head_dim"]
        inv = 1.0 / (self.s["rope_base"] ** (torch.arange(0, hd, 2, device=ids.device).float() / hd))
        ang = torch.outer(torch.arange(T, device=ids.device).float(), inv)
        ang = torch.cat((ang, ang), -1)
        cos, sin = ang.cos().to(self.emb.dtype), ang.sin().to(self.emb.dtype)
        x = self.emb[ids]
        for L in self.layers:
            x = L(x, cos, sin)
        x = self.layers[0].norm(x, self.nf)
        return F.linear(x, self.emb).float()  # tied output


DEV = os.environ.get("W2S_PEER_DEVICE", "cuda")  # "cpu": a smoke test of this script without a GPU


def sync():
    if DEV == "cuda":
        torch.cuda.synchronize()


def naive_sweep_item(model, prompt, responses, vectors, multipliers):
    """One item: returns the propensity per (layer, multiplier) (sum of target logits, matching - not matching)."""
    P = len(prompt)
    seqs = [prompt + r[:-1] for r in responses]
    ids = torch.tensor(seqs, device=DEV)
    rows = [list(range(P - 1, P - 1 + len(r))) for r in responses]

    def propensity(logits):
        m = [sum(logits[k, rows[k][j], responses[k][j]].item() for j in range(len(responses[k]))) for k in (0, 1)]
        return m[0] - m[1]

    with torch.no_grad():
        base = propensity(model(ids))
        out = []
        for l, layer in enumerate(model.layers):
            for lam in multipliers:
                if lam == 0.0:
                    out.append(base)
                    continue
                vec = (lam * vectors[l]).to(model.emb.dtype)

                def hook(mod, inp, outp, vec=vec):
                    outp = outp.clone()
                    outp[:, P - 1:, :] += vec
                    return outp

                hdl = layer.register_forward_hook(hook)
                try:
                    out.append(propensity(model(ids)))
                finally:
                    hdl.remove()
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("bench_json")
    ap.add_argument("--items-small", type=int, default=3)
    ap.add_argument("--items-7b", type=int, default=2)
    a = ap.parse_args()
    if DEV == "cuda" and not torch.cuda.is_available():
        print("torch_peer: no CUDA device for torch: peer not run")
        return 0
    with open(a.bench_json) as f:
        b = json.load(f)
    sw = b["sweep"]
    mult = sw["multipliers"]
    g = torch.Generator().manual_seed(7)
    rows = []
    for c in b.get("configs", []):
        s = c["shape"]
        if DEV == "cuda":
            torch.cuda.empty_cache()
        model = Llama(s, DEV, torch.float16 if DEV == "cuda" else torch.float32).eval()
        # pp
        ids = torch.randint(10, s["vocab"], (1, b["pp"]), generator=g).to(DEV)
        with torch.no_grad():
            model(ids)
            sync()
            best = 1e30
            for _ in range(3):
                t0 = time.perf_counter()
                model(ids)
                sync()
                best = min(best, time.perf_counter() - t0)
        pp = b["pp"] / best
        # the naive sweep
        n_items = a.items_7b if s["n_layers"] >= 32 else a.items_small
        vectors = [torch.randn(s["hidden"], generator=g).to(DEV) * 0.05 for _ in range(s["n_layers"])]

        def item():
            p = torch.randint(10, s["vocab"], (sw["prompt"],), generator=g).tolist()
            r = torch.randint(10, s["vocab"], (4,), generator=g).tolist()
            return p, [[r[0], r[1], r[3]], [r[0], r[2], r[3]]]

        naive_sweep_item(model, *item(), vectors, mult)  # warm-up
        sync()
        t0 = time.perf_counter()
        for _ in range(n_items):
            naive_sweep_item(model, *item(), vectors, mult)
        sync()
        ips = n_items / (time.perf_counter() - t0)
        rows.append((c, pp, ips, n_items))
        del model
    print()
    print("device: %s" % b.get("device", "?"))
    print("%-32s %12s %12s %8s %16s %16s %8s %8s" % ("model", "w2s pp t/s", "torch pp t/s", "ratio",
                                                     "w2s sweep it/s", "torch naive it/s", "ratio", "4thr"))
    for c, pp, ips, n in rows:
        print("%-32s %12.1f %12.1f %8.2f %16.2f %16.3f %8.1f %8.1f" % (
            c["name"], c["pp_tps"], pp, c["pp_tps"] / pp, c["sweep_items_per_s"], ips, c["sweep_items_per_s"] / ips,
            c["sweep_items_per_s_4threads"] / ips))
    print("(ratio = w2s CUDA / PyTorch; the sweep is all layers x %d multipliers per item; torch: %s naive items; "
          "w2s tg t/s: %s)" % (len(mult), "/".join(str(r[3]) for r in rows),
                               ", ".join("%.1f" % c["tg_tps"] for c in b.get("configs", []))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
