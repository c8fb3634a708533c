# How the logit tolerance of tests/cuda/test_cuda.cpp for SmolLM2 was chosen (not run by the tests).
# Emulates the GPU path on the CPU with transformers: weights rounded to fp16, every Linear's input rounded to
# fp16 (cuBLAS: fp16 inputs, fp32 accumulation), everything else fp32; compares with the fp32 forward.
# Run:  /opt/w2s-venv/bin/python tests/cuda/fp16_error_estimate.py
# Measured (2 prompts): max|logit| 36.1 / 31.4, max|diff| 0.051 / 0.043, mean|diff| 0.007 / 0.008, argmax agree 100%.
# Hence kLogitTolSmol = 0.15 (about 3x the emulated error; attention and norms in fp32 on both sides add little).
import torch, os, sys
from transformers import AutoModelForCausalLM, AutoTokenizer
torch.set_num_threads(1)
p = os.path.expanduser("~/.cache/w2s/SmolLM2-135M-Instruct.Q4_1.gguf")
d, f = os.path.dirname(p), os.path.basename(p)
tok = AutoTokenizer.from_pretrained(d, gguf_file=f)
m = AutoModelForCausalLM.from_pretrained(d, gguf_file=f, dtype=torch.float32, attn_implementation="eager")
m.eval()
prompts = ["<|im_start|>user\nWhat is the capital of France? Answer briefly, please.<|im_end|>\n<|im_start|>assistant\n",
           "The quick brown fox jumps over the lazy dog and then runs away into the forest where"]
with torch.no_grad():
    ref = [m(**tok(x, return_tensors="pt")).logits[0] for x in prompts]
    for mod in m.modules():
        if isinstance(mod, torch.nn.Linear):
            mod.weight.copy_(mod.weight.half().float())
            mod.register_forward_pre_hook(lambda mod, args: (args[0].half().float(),))
    m.model.embed_tokens.weight.copy_(m.model.embed_tokens.weight.half().float())
    emu = [m(**tok(x, return_tensors="pt")).logits[0] for x in prompts]
for r, e in zip(ref, emu):
    print("max|logit| %.2f  max|diff| %.4f  mean|diff| %.5f  argmax agree %.3f" % (r.abs().max(), (r-e).abs().max(), (r-e).abs().mean(),
          (r.argmax(-1) == e.argmax(-1)).float().mean()))
