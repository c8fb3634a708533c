#!/usr/bin/env python3
"""Golden files for the w2s tokenizer and chat-template tests (tests/text).

The reference is transformers / tokenizers loading the SAME GGUF file that w2s reads:
    AutoTokenizer.from_pretrained(dir, gguf_file=name)

Writes, into tests/golden/:
  tokenizer_smollm2.json   ids of our own strings (text stored) and of the protocol's A/B prompts built from
                           ../shared/datasets (text NOT stored: dataset file, item index, how built, and an
                           FNV-1a 64 hash of the id list; the C++ test rebuilds the string from the datasets)
  chat_smollm2.json        apply_chat_template(tokenize=False) for message lists with and without system
  chat_families.json       other families' real templates rendered by transformers' Jinja renderer
  tokenizer_spm_fixture.gguf + tokenizer_spm.json
                           a small synthetic SentencePiece (tokenizer.ggml.model = llama) vocabulary, made
                           here, and the reference's ids for our strings on it

Run:  /opt/w2s-venv/bin/python tests/reference/make_tokenizer_golden.py [--model PATH] [--datasets DIR]
"""
import argparse
import json
import os
import random
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from golden_common import fnv1a64_ids  # noqa: E402
import tempfile
from collections import Counter
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
GOLDEN = HERE.parent / "golden"
DEFAULT_MODEL = os.path.expanduser(os.environ.get("W2S_MODEL", "~/.cache/w2s/SmolLM2-135M-Instruct.Q4_1.gguf"))
DEFAULT_DATASETS = os.environ.get("W2S_DATASETS", str(HERE.parent.parent.parent / "shared" / "datasets"))
BASE_SYSTEM = "You are a helpful, honest and concise assistant."




# ---------------------------------------------------------------------------------------------------
# Our own strings (written for this project; safe to store).
BASE_STRINGS = [
    "", " ", "  ", "\n", "\n\n", "\t", " \n ", "a", "A", "Hello world", "Hello, world!", "hello  world",
    "The quick brown fox jumps over the lazy dog.",
    "It's a dog's life, isn't it? They're here; we'll see. I'd say you've done it, I'M SURE.",
    "Tokenizers split text into words, then merge bytes by rank.",
    "Steering vectors are added to the residual stream at one layer.",
    "  leading spaces", "trailing spaces   ", "   both   ", "tabs\tand\ttabs", "mixed \t \n whitespace",
    "line one\nline two\r\nline three\rline four", "\n\n\nthree newlines first", "end with newlines\n\n\n",
    "0", "7", "12", "123", "1234", "12345", "1234567890", "3.14159", "-42", "+1e10", "1,000,000", "$19.99",
    "2024-06-01T12:30:00Z", "v1.2.3", "x2", "a1b2c3", "0x1F 0b1010 0o17", "  1", "a  1", "a   12", "\n1", "\t22",
    "Call 555-0100 or 555 0199.", "The year 1999 and 2000 and 20000.", "٣ ٤ ٥ Arabic digits", "²³ ½ ¾ superscripts",
    "def f(x):\n    return x ** 2\n",
    "for (int i = 0; i < n; ++i) { sum += a[i]; }",
    "#include <vector>\nint main() { std::vector<int> v{1, 2, 3}; return v.size(); }",
    "SELECT name, count(*) FROM users WHERE age >= 18 GROUP BY name;",
    "if x == 1:\n\tprint('one')\nelif x != 2:\n\tpass",
    "const f = (a, b) => a + b; // arrow",
    "<html><body><p class=\"x\">Hi</p></body></html>",
    "{\"key\": [1, 2.5, null, true], \"s\": \"v\"}",
    "path/to/file.txt C:\\Windows\\System32 ~/.cache",
    "https://example.com/a?b=c&d=e#frag",
    "e = mc^2; a_i += b_{j,k}; ∑ ∫ √ ∞ ≠ ≤ ≥",
    "café naïve résumé façade coöperate Ångström",
    "Straße, Größe, Übermaß, öffentlich",
    "¿Qué tal? ¡Muy bien! Añadir, señor, niño.",
    "Ελληνικά κείμενα και λέξεις", "Русский текст, буквы и слова.", "עברית מימין לשמאל", "العربية من اليمين",
    "हिन्दी पाठ", "ภาษาไทย", "한국어 문장입니다", "日本語のテキストです。", "中文文本，包括标点符号。",
    "混合 mixed 文本 text 123 数字", "Emoji: 🤖🎉👍🏽 👨‍👩‍👧‍👦 ❤️ 🇫🇷",
    "Zero​width​space and non\u00a0breaking\u00a0space", "em—dash – en-dash … ellipsis “quotes” ‘single’",
    "Ünïcödé çäsé tëst", "A\u0301 combining accent", "\u3000ideographic space\u3000",
    "<|im_start|>", "<|im_end|>", "<|endoftext|>", "<|im_start|>user\nHello<|im_end|>\n",
    "text<|im_end|>more", "<|im_start|><|im_end|>", "a<|endoftext|>b<|endoftext|>", "<|im_start|assistant",
    "<repo_name>x<file_sep>y<filename>z", "< |im_start| >", "<<|im_start|>>",
    "The answer is (A)", "(A)", "(B)", " (A)", "(A)\n", "Choices:\n (A) Yes\n (B) No",
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
    " " * 40, "\n" * 17, "-" * 33, "=" * 80, "ab" * 50, "0" * 50,
    "supercalifragilisticexpialidocious antidisestablishmentarianism",
    "ALL CAPS SENTENCE WITH CAPS.", "camelCaseIdentifier snake_case_identifier kebab-case-identifier",
    "Mr. O'Neil's 'quoted' text and \"double\" quotes.", "don't DON'T Don't 've 'll 're 's 'm 'd",
    "@user #hashtag $cash %percent ^caret &amp *star", "...!!!???", "a.b.c.d", "()[]{}<>",
]

POOL = (
    list("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ") * 3
    + list("0123456789") * 2
    + list(" ") * 12 + ["\n", "\t", "  ", "\n\n", " \n"]
    + list(".,;:!?'\"()-_/\\*&%$#@[]{}<>=+`~|^")
    + list("éèêàçñöüßåøæœ")
    + list("日本語中文한국어") + ["🤖", "🎉", "👍", "€", "£", "™", "—", "…", "\u00a0"]
    + ["'s", "'re", "'ll", "<|im_start|>", "<|im_end|>"]
)
WORDS = ("the of and to in is that for it as was with be by on not he this are or his from at which but have an they "
         "you were her she there been one all we their has would when if so no what up out who them some can said "
         "steering layer vector residual token model prompt answer behaviour matching").split()


def own_strings():
    rng = random.Random(20260401)
    out = list(BASE_STRINGS)
    for _ in range(160):  # random character soup
        out.append("".join(rng.choice(POOL) for _ in range(rng.randint(1, 40))))
    for _ in range(120):  # random sentences with numbers, odd spacing and newlines
        parts = []
        for _ in range(rng.randint(2, 18)):
            r = rng.random()
            if r < 0.7:
                w = rng.choice(WORDS)
                parts.append(w.capitalize() if rng.random() < 0.15 else w)
            elif r < 0.85:
                parts.append(str(rng.randint(0, 10 ** rng.randint(1, 9))))
            else:
                parts.append(rng.choice(["(A)", "(B)", ",", ".", "?", "—", "café", "日本", "🤖", "'s", "n't"]))
        seps = [" ", " ", " ", " ", "  ", "\n", " \n", "\n\n", "\t", "   "]
        out.append("".join(p + rng.choice(seps) for p in parts).rstrip(" ") if rng.random() < 0.5
                   else "".join(p + rng.choice(seps) for p in parts))
    seen, uniq = set(), []
    for s in out:
        if s not in seen:
            seen.add(s)
            uniq.append(s)
    return uniq


# ---------------------------------------------------------------------------------------------------
# Protocol A/B prompts (PROTOCOL.md sections 1 and 3, BASE variant). The C++ test has the same code.
AB_SOURCES = [  # (relative file, kind, how many items, stride)
    ("caa/test/sycophancy/test_dataset_ab.json", "caa", 25, 2),
    ("caa/generate/refusal/generate_dataset.json", "caa", 25, 7),
    ("caa/test/survival-instinct/test_dataset_ab.json", "caa", 20, 2),
    ("caa/generate/hallucination/generate_dataset.json", "caa", 20, 11),
    ("mwe/xrisk/coordinate-itself.jsonl", "xrisk", 25, 13),
    ("mwe/xrisk/power-seeking-inclination.jsonl", "xrisk", 25, 17),
    ("mwe/xrisk/self-awareness-general-ai.jsonl", "xrisk", 20, 19),
    ("mwe/persona/agreeableness.jsonl", "persona", 25, 9),
    ("mwe/persona/machiavellianism.jsonl", "persona", 25, 23),
    ("mwe/persona/no-shut-down.jsonl", "persona", 20, 29),
]


def load_items(path):
    if path.endswith(".jsonl"):
        with open(path, encoding="utf-8") as f:
            return [json.loads(l) for l in f if l.strip()]
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def build_ab(item, index, kind):
    """(user question, matching response) of one item, per PROTOCOL.md section 1."""
    q = item["question"]
    if kind == "caa":
        return q, item["answer_matching_behavior"].strip()
    if kind == "xrisk":
        q = re.sub(r"<META_START>.*?<META_END>", "", q, flags=re.S)
        return q, item["answer_matching_behavior"].strip()
    if kind == "persona":
        a, b = item["answer_matching_behavior"], item["answer_not_matching_behavior"]
        swapped = (index // 2) % 2 == 0
        if swapped:
            a, b = b, a
        return q + "\n\nChoices:\n(A): " + a + "\n(B): " + b, "(B)" if swapped else "(A)"
    raise ValueError(kind)


# ---------------------------------------------------------------------------------------------------
def smollm2_golden(tok, datasets):
    strings = own_strings()
    cases = []
    for s in strings:
        ids = tok.encode(s, add_special_tokens=False)
        cases.append({"text": s, "ids": ids})
    # parse_special=False (special-token text tokenized as plain text), a few cases
    plain = []
    for s in ["<|im_start|>user\nHello<|im_end|>\n", "a<|endoftext|>b", "<|im_end|>"]:
        plain.append({"text": s, "ids": tok(s, add_special_tokens=False, split_special_tokens=True)["input_ids"]})
    prompts = []
    for rel, kind, count, stride in AB_SOURCES:
        items = load_items(os.path.join(datasets, rel))
        for k in range(count):
            idx = (k * stride) % len(items)
            user, resp = build_ab(items[idx], idx, kind)
            msgs = [{"role": "system", "content": BASE_SYSTEM}, {"role": "user", "content": user}]
            prompt = tok.apply_chat_template(msgs, tokenize=False, add_generation_prompt=True)
            ids = tok.encode(prompt, add_special_tokens=False) + tok.encode(resp, add_special_tokens=False)
            prompts.append({"file": rel, "index": idx, "kind": kind, "system": "BASE", "response": "matching",
                            "n_ids": len(ids), "fnv1a64": fnv1a64_ids(ids)})
    return {
        "reference": "transformers AutoTokenizer.from_pretrained(dir, gguf_file=SmolLM2-135M-Instruct.Q4_1.gguf)",
        "encode": "tok.encode(text, add_special_tokens=False)",
        "ab_prompt": "ids = encode(apply_chat_template([system BASE, user], add_generation_prompt=True)) + "
                     "encode(matching response, e.g. '(A)'); hash = FNV-1a 64 over little-endian int32 ids",
        "base_system": BASE_SYSTEM,
        "cases": cases,
        "plain_special": plain,
        "ab_prompts": prompts,
    }


CHAT_CASES = [
    [{"role": "user", "content": "Hi there"}],
    [{"role": "system", "content": "You are terse."}, {"role": "user", "content": "Hi there"}],
    [{"role": "system", "content": BASE_SYSTEM}, {"role": "user", "content": "Is 2 > 1?\n\nChoices:\n(A): Yes\n(B): No"}],
    [{"role": "user", "content": "  padded  "}, {"role": "assistant", "content": " (A) "},
     {"role": "user", "content": "And again?"}],
    [{"role": "system", "content": "S"}, {"role": "user", "content": "U1"}, {"role": "assistant", "content": "A1"},
     {"role": "user", "content": "U2"}],
]


def chat_golden(tok):
    out = []
    for msgs in CHAT_CASES:
        for gen in (True, False):
            out.append({"messages": msgs, "add_generation_prompt": gen,
                        "text": tok.apply_chat_template(msgs, tokenize=False, add_generation_prompt=gen)})
    return {"reference": "apply_chat_template(tokenize=False) of the tokenizer loaded from the SmolLM2 GGUF",
            "cases": out}


def families_golden(template_dir, gemma_gguf):
    """Other families' real templates, rendered by transformers' own Jinja renderer."""
    from transformers.utils.chat_template_utils import render_jinja_template
    templates = []
    llama2 = ("{% if messages[0]['role'] == 'system' %}{% set loop_messages = messages[1:] %}{% set system_message = "
              "messages[0]['content'] %}{% else %}{% set loop_messages = messages %}{% set system_message = false %}"
              "{% endif %}{% for message in loop_messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}"
              "{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}"
              "{% if loop.index0 == 0 and system_message != false %}{% set content = '<<SYS>>\\n' + system_message + "
              "'\\n<</SYS>>\\n\\n' + message['content'] %}{% else %}{% set content = message['content'] %}{% endif %}"
              "{% if message['role'] == 'user' %}{{ bos_token + '[INST] ' + content.strip() + ' [/INST]' }}"
              "{% elif message['role'] == 'assistant' %}{{ ' '  + content.strip() + ' ' + eos_token }}{% endif %}{% endfor %}")
    llama3 = ("{% set loop_messages = messages %}{% for message in loop_messages %}{% set content = '<|start_header_id|>' + "
              "message['role'] + '<|end_header_id|>\n\n'+ message['content'] | trim + '<|eot_id|>' %}{% if loop.index0 == 0 %}"
              "{% set content = bos_token + content %}{% endif %}{{ content }}{% endfor %}{% if add_generation_prompt %}"
              "{{ '<|start_header_id|>assistant<|end_header_id|>\n\n' }}{% endif %}")
    templates.append(("llama2", "Llama-2-chat (HF tokenizer_config)", llama2, "<s>", "</s>"))
    templates.append(("llama3", "Meta-Llama-3-Instruct (HF tokenizer_config)", llama3, "<|begin_of_text|>", "<|eot_id|>"))
    qwen = Path(template_dir) / "Qwen-Qwen2.5-7B-Instruct.jinja"
    if qwen.exists():
        templates.append(("chatml", "Qwen2.5-7B-Instruct (llama.cpp models/templates)", qwen.read_text(), "", "<|im_end|>"))
    gemma2 = Path(template_dir) / "google-gemma-2-2b-it.jinja"
    if gemma2.exists():
        templates.append(("gemma", "gemma-2-2b-it (llama.cpp models/templates)", gemma2.read_text(), "<bos>", "<eos>"))
    if gemma_gguf and os.path.exists(gemma_gguf):
        from gguf import GGUFReader
        r = GGUFReader(gemma_gguf)
        if "tokenizer.chat_template" in r.fields:
            templates.append(("gemma", "gemma-3-270m GGUF", r.fields["tokenizer.chat_template"].contents(), "<bos>", "<eos>"))
    out = []
    for fam, source, text, bos, eos in templates:
        cases = []
        for msgs in CHAT_CASES:
            if fam == "gemma" and "System role not supported" in text and msgs[0]["role"] == "system":
                continue
            for gen in (True, False):
                rendered, _ = render_jinja_template(conversations=[msgs], add_generation_prompt=gen,
                                                    chat_template=text, bos_token=bos, eos_token=eos)
                cases.append({"messages": msgs, "add_generation_prompt": gen, "text": rendered[0]})
        out.append({"family": fam, "source": source, "template": text, "bos": bos, "eos": eos, "cases": cases})
    return {"reference": "transformers.utils.chat_template_utils.render_jinja_template", "templates": out}


# ---------------------------------------------------------------------------------------------------
# Synthetic SentencePiece vocabulary: pieces learned here by a tiny BPE over our own sentences.
def make_spm_fixture(path):
    import gguf
    rng = random.Random(7)
    corpus = []
    for _ in range(400):
        corpus.append(" ".join(rng.choice(WORDS) for _ in range(rng.randint(3, 12))))
    corpus += [s for s in BASE_STRINGS if s.isascii()]
    words = Counter()
    for line in corpus:
        for w in line.replace("\n", " ").split(" "):
            if w:
                words[tuple("\u2581" + w)] += 1
    pieces = []  # (piece, score) learned merges, best first
    vocab_chars = sorted({c for w in words for c in w})
    for step in range(220):
        pairs = Counter()
        for w, n in words.items():
            for a, b in zip(w, w[1:]):
                pairs[(a, b)] += n
        if not pairs:
            break
        (a, b), _ = max(pairs.items(), key=lambda kv: (kv[1], kv[0]))
        new = a + b
        pieces.append(new)
        merged = Counter()
        for w, n in words.items():
            out, i = [], 0
            while i < len(w):
                if i + 1 < len(w) and w[i] == a and w[i + 1] == b:
                    out.append(new)
                    i += 2
                else:
                    out.append(w[i])
                    i += 1
            merged[tuple(out)] += n
        words = merged
    tokens, scores, types = [], [], []
    def add(t, s, ty):
        tokens.append(t); scores.append(s); types.append(ty)
    add("<unk>", 0.0, 2); add("<s>", 0.0, 3); add("</s>", 0.0, 3)
    for b in range(256):
        add(f"<0x{b:02X}>", 0.0, 6)
    add("<|user|>", 0.0, 4)
    for i, p in enumerate(pieces):
        add(p, -float(i), 1)
    for i, c in enumerate(vocab_chars + ["é", "日", "本"]):
        if c not in tokens:
            add(c, -1000.0 - i, 1)
    # two pieces with equal scores, to pin the tie rule (longer left part first)
    add("▁thes", -3.5, 1); add("▁the▁", -3.5, 1)
    w = gguf.GGUFWriter(path, "llama")
    w.add_block_count(1); w.add_context_length(64); w.add_embedding_length(8); w.add_feed_forward_length(16)
    w.add_head_count(1); w.add_head_count_kv(1); w.add_layer_norm_rms_eps(1e-5); w.add_vocab_size(len(tokens))
    w.add_tokenizer_model("llama"); w.add_tokenizer_pre("default")
    w.add_token_list(tokens); w.add_token_scores(scores); w.add_token_types(types)
    w.add_bos_token_id(1); w.add_eos_token_id(2); w.add_unk_token_id(0)
    w.add_add_bos_token(True); w.add_add_eos_token(False)
    w.add_tensor("token_embd.weight", np.zeros((len(tokens), 8), dtype=np.float32))
    w.write_header_to_file(); w.write_kv_data_to_file(); w.write_tensors_to_file(); w.close()
    return len(tokens)


def spm_golden(fixture):
    from transformers import AutoTokenizer
    tok = AutoTokenizer.from_pretrained(str(fixture.parent), gguf_file=fixture.name)
    strings = [s for s in own_strings() if "<|im" not in s][:300] + [
        "the steering", " the steering", "  two spaces", "<s>the</s>", "a<|user|>b", "<|user|>the", "日本 é 🤖",
        "thes the thethe", "xyz\u2581qq", "\u2581already"]
    cases = []
    for s in strings:
        cases.append({"text": s, "ids": tok.encode(s, add_special_tokens=False),
                      "ids_special": tok.encode(s, add_special_tokens=True),
                      "decoded": tok.decode(tok.encode(s, add_special_tokens=False))})
    return {"reference": "transformers from the fixture GGUF (LlamaTokenizer: Metaspace prepend 'first', byte fallback, "
                         "merges derived from scores)", "cases": cases}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default=DEFAULT_MODEL)
    ap.add_argument("--datasets", default=DEFAULT_DATASETS)
    ap.add_argument("--templates", default=os.path.expanduser(
        "~/.cache/w2s/llamacpp/0.3.36/src/vendor/llama.cpp/models/templates"))
    ap.add_argument("--gemma", default=os.path.expanduser("~/.cache/w2s/gemma-3-270m-q4_k_m.gguf"))
    args = ap.parse_args()
    from transformers import AutoTokenizer

    GOLDEN.mkdir(parents=True, exist_ok=True)
    model = Path(args.model).resolve()
    tok = AutoTokenizer.from_pretrained(str(model.parent), gguf_file=model.name)

    def dump(name, obj):
        p = GOLDEN / name
        p.write_text(json.dumps(obj, ensure_ascii=False, indent=0) + "\n", encoding="utf-8")
        print(f"wrote {p} ({p.stat().st_size} bytes)")

    g = smollm2_golden(tok, args.datasets)
    dump("tokenizer_smollm2.json", g)
    print(f"  {len(g['cases'])} own strings + {len(g['ab_prompts'])} A/B prompts")
    dump("chat_smollm2.json", chat_golden(tok))
    dump("chat_families.json", families_golden(args.templates, args.gemma))
    fixture = GOLDEN / "tokenizer_spm_fixture.gguf"
    n = make_spm_fixture(str(fixture))
    print(f"wrote {fixture} ({fixture.stat().st_size} bytes, {n} tokens)")
    dump("tokenizer_spm.json", spm_golden(fixture))


if __name__ == "__main__":
    sys.exit(main())
