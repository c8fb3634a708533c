#!/usr/bin/env python3
"""Golden files for tests/gguf, made with the PyPI `gguf` package (0.19) — the reference for the GGUF format.

Run from the repository root:   /opt/w2s-venv/bin/python tests/reference/make_gguf_golden.py

Writes into tests/golden/ (GGUF images end in .gguf.bin because the repository ignores *.gguf):
  gguf_dequant_<TYPE>.bin  for F32 F16 BF16 Q4_0 Q4_1 Q5_0 Q5_1 Q8_0 Q2_K Q3_K Q4_K Q5_K Q6_K:
      b"W2SQ" | u32 ggml type | u64 n_elements | u64 n_bytes | n_bytes of blocks | n_elements float32
      (little-endian). The floats are gguf.quants.dequantize(blocks, type). F16 and BF16 hold all 65536
      bit patterns (zeros, subnormals, infinities, NaNs); F32 holds random bit patterns plus the special
      values; quantized types hold random blocks whose fp16 scales are sane (finite, |d| in [1e-4, 2]) plus
      one block with a subnormal scale.
  gguf_writer_py.gguf.bin      a file written by gguf.GGUFWriter (metadata of every type, string arrays, nested
      arrays, custom alignment 64, F32/F16/BF16/Q8_0/Q4_K tensors). tests/gguf reads it and rebuilds it
      byte for byte with w2s::gguf::Writer. The C++ side of the contents is in tests/gguf/test_gguf_golden.cpp.
And checks (exit status 1 on any mismatch):
  gguf_writer_cpp.gguf.bin     written by w2s::gguf::Writer in tests/gguf (the test regenerates it and compares
      bytes; W2S_UPDATE_GOLDEN=1 rewrites it). Here gguf.GGUFReader reads it back and every key, type, value,
      tensor shape, type and byte is compared with the definition below (CPP_* / cpp_tensor_bytes).
"""
from __future__ import annotations

import os
import struct
import sys
from pathlib import Path

import numpy as np
import gguf
from gguf import GGMLQuantizationType as QT
from gguf import GGUFValueType as VT

GOLDEN = Path(__file__).resolve().parent.parent / "golden"

# --------------------------------------------------------------------------------------------------
# a) dequantization
# --------------------------------------------------------------------------------------------------
# Offsets of the fp16 scale fields inside each block (d first, then dmin/m where present).
SCALE_OFFSETS = {
    QT.Q4_0: [0], QT.Q4_1: [0, 2], QT.Q5_0: [0], QT.Q5_1: [0, 2], QT.Q8_0: [0],
    QT.Q2_K: [80, 82], QT.Q3_K: [108], QT.Q4_K: [0, 2], QT.Q5_K: [0, 2], QT.Q6_K: [208],
}
N_BLOCKS = {QT.Q2_K: 4, QT.Q3_K: 4, QT.Q4_K: 4, QT.Q5_K: 4, QT.Q6_K: 4}  # others: 8


def sane_fp16(rng: np.random.Generator, n: int) -> np.ndarray:
    mag = np.exp(rng.uniform(np.log(1e-4), np.log(2.0), n))
    sign = rng.choice([-1.0, 1.0], n)
    return (mag * sign).astype(np.float16)


def write_dequant(qtype: QT, blocks: np.ndarray) -> None:
    blocks = np.ascontiguousarray(blocks, dtype=np.uint8)
    out = gguf.quants.dequantize(blocks, qtype).astype(np.float32, copy=False).reshape(-1)
    path = GOLDEN / f"gguf_dequant_{qtype.name}.bin"
    with open(path, "wb") as f:
        f.write(b"W2SQ")
        f.write(struct.pack("<IQQ", int(qtype), out.size, blocks.size))
        f.write(blocks.tobytes())
        f.write(out.astype("<f4").tobytes())
    print(f"wrote {path.name}: {out.size} floats from {blocks.size} bytes")


def make_dequant(rng: np.random.Generator) -> None:
    all16 = np.arange(65536, dtype=np.uint16).view(np.uint8)  # every fp16 / bf16 bit pattern
    write_dequant(QT.F16, all16)
    write_dequant(QT.BF16, all16)
    specials = np.array([0.0, -0.0, 1.0, -1.0, np.inf, -np.inf, np.nan, 1e-45, -1e-45, 1.17e-38,
                         3.4028235e38], dtype=np.float32).view(np.uint32)
    bits = np.concatenate([specials, rng.integers(0, 2**32, 245, dtype=np.uint32)])
    bits = np.concatenate([bits, np.array([0x7FC00001, 0xFFBFFFFF, 0x7F800001], dtype=np.uint32)])  # NaN payloads
    write_dequant(QT.F32, bits.astype("<u4").view(np.uint8))
    for qtype, offsets in SCALE_OFFSETS.items():
        _, type_size = gguf.GGML_QUANT_SIZES[qtype]
        nb = N_BLOCKS.get(qtype, 8)
        blocks = rng.integers(0, 256, (nb, type_size), dtype=np.uint8)
        for off in offsets:
            blocks[:, off:off + 2] = sane_fp16(rng, nb).view(np.uint8).reshape(nb, 2)
        # last block: subnormal d
        blocks[-1, offsets[0]:offsets[0] + 2] = np.array([0x0123], dtype="<u2").view(np.uint8)
        write_dequant(qtype, blocks)


# --------------------------------------------------------------------------------------------------
# b) writer interop: the Python-written file
# --------------------------------------------------------------------------------------------------
def pattern_bytes(n: int, seed: int) -> np.ndarray:
    """Deterministic bytes, identical to tests/gguf's pattern_bytes(): b[i] = (i * 31 + seed * 7 + 3) mod 256."""
    i = np.arange(n, dtype=np.uint64)
    return ((i * 31 + seed * 7 + 3) % 256).astype(np.uint8)


def make_python_file() -> None:
    path = GOLDEN / "gguf_writer_py.gguf.bin"
    w = gguf.GGUFWriter(str(path), "w2s-test")  # general.architecture comes first
    w.add_custom_alignment(64)
    w.add_uint8("t.u8", 200)
    w.add_int8("t.i8", -100)
    w.add_uint16("t.u16", 60000)
    w.add_int16("t.i16", -30000)
    w.add_uint32("t.u32", 4000000000)
    w.add_int32("t.i32", -2000000000)
    w.add_uint64("t.u64", 2**63 + 5)
    w.add_int64("t.i64", -(2**62) - 7)
    w.add_float32("t.f32", 3.14159)
    w.add_float64("t.f64", -2.718281828459045)
    w.add_bool("t.true", True)
    w.add_bool("t.false", False)
    w.add_string("t.string", "h\u00e9llo \u2713 w\u00f6rld")
    w.add_array("t.strings", ["a", "<|im_start|>", "\u65e5\u672c", " spaced "])
    w.add_array("t.i32s", [1, -2, 3, 2**31 - 1])
    w.add_array("t.f32s", [0.5, -1.25, 1e-3])
    w.add_key_value("t.u8s", [0, 7, 255], VT.ARRAY, sub_type=VT.UINT8)
    w.add_key_value("t.u64s", [0, 2**64 - 1], VT.ARRAY, sub_type=VT.UINT64)
    w.add_key_value("t.f64s", [1.5, -0.0], VT.ARRAY, sub_type=VT.FLOAT64)
    w.add_array("t.bools", [True, False, True])
    w.add_key_value("t.nested", [[1, 2], [3], [4, 5, 6]], VT.ARRAY, sub_type=VT.ARRAY)
    # Tensors: numpy shape is (ne[1], ne[0]).
    w.add_tensor("t.f32", (np.arange(12, dtype=np.float32) * 0.25 - 1).reshape(3, 4))
    w.add_tensor("t.f16", (np.arange(16, dtype=np.float32) / 8 - 1).astype(np.float16).reshape(2, 8))
    w.add_tensor("t.bf16", pattern_bytes(2 * 2 * 8, 1).reshape(2, 16), raw_dtype=QT.BF16)
    w.add_tensor("t.q8_0", pattern_bytes(2 * 2 * 34, 2).reshape(2, 68), raw_dtype=QT.Q8_0)
    w.add_tensor("t.q4_k", pattern_bytes(144, 3).reshape(1, 144), raw_dtype=QT.Q4_K)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    print(f"wrote {path.name}: {path.stat().st_size} bytes")


# --------------------------------------------------------------------------------------------------
# b) writer interop: check the C++-written file
# --------------------------------------------------------------------------------------------------
# The contents tests/gguf/test_gguf_golden.cpp writes (make_cpp_file there). (key, value type, value) with
# arrays as (elem type, items); nested arrays are compared flattened plus their element-type chain.
CPP_KEYS = [
    ("general.architecture", VT.STRING, "w2s-cpp"),
    ("c.u8", VT.UINT8, 255), ("c.i8", VT.INT8, -128), ("c.u16", VT.UINT16, 65535), ("c.i16", VT.INT16, -32768),
    ("c.u32", VT.UINT32, 2**32 - 1), ("c.i32", VT.INT32, -(2**31)), ("c.u64", VT.UINT64, 2**64 - 1),
    ("c.i64", VT.INT64, -(2**63)), ("c.f32", VT.FLOAT32, float(np.float32(1e-40))), ("c.f64", VT.FLOAT64, 1e300),
    ("c.bool", VT.BOOL, True), ("c.empty_string", VT.STRING, ""), ("c.nul_string", VT.STRING, "a\0b"),
    ("c.utf8", VT.STRING, "\u00e7a va \U0001F600"),
    ("c.strings", (VT.ARRAY, VT.STRING), ["<|im_end|>", "", "x"]),
    # GGUFReader takes an array's element types from its first item, so an empty one shows only ARRAY;
    # its declared element type (i32) is checked from the raw parts below.
    ("c.empty_array", (VT.ARRAY,), []),
    ("c.i16s", (VT.ARRAY, VT.INT16), [-1, 0, 32767]),
    ("c.f32s", (VT.ARRAY, VT.FLOAT32), [float(np.float32(x)) for x in (0.1, -2.5, 1e30)]),
    ("c.nested", (VT.ARRAY, VT.ARRAY, VT.ARRAY, VT.UINT32), [1, 2, 3, 4]),  # [[[1],[2,3]],[[4]]]
    ("c.nested_strings", (VT.ARRAY, VT.ARRAY, VT.STRING), ["p", "q", "r"]),  # [["p","q"],["r"]]
]
# (name, type, ne) — bytes are pattern_bytes(n_bytes, index), except F32 whose values are i * 0.5 - 3.
CPP_TENSORS = [
    ("c.f32", QT.F32, [3, 2]), ("c.f16", QT.F16, [4]), ("c.bf16", QT.BF16, [2, 2]),
    ("c.q4_0", QT.Q4_0, [32, 2]), ("c.q4_1", QT.Q4_1, [64]), ("c.q5_0", QT.Q5_0, [32]),
    ("c.q5_1", QT.Q5_1, [32, 1, 2]), ("c.q8_0", QT.Q8_0, [32, 3]), ("c.q2_k", QT.Q2_K, [256]),
    ("c.q3_k", QT.Q3_K, [256]), ("c.q4_k", QT.Q4_K, [256, 2]), ("c.q5_k", QT.Q5_K, [256]),
    ("c.q6_k", QT.Q6_K, [256, 1, 1, 2]),
]


def cpp_tensor_bytes(index: int, qtype: QT, ne: list[int]) -> bytes:
    block, size = gguf.GGML_QUANT_SIZES[qtype]
    n = int(np.prod(ne))
    if qtype == QT.F32:
        return (np.arange(n, dtype=np.float32) * np.float32(0.5) - np.float32(3)).astype("<f4").tobytes()
    return pattern_bytes(n // block * size, index).tobytes()


def check_cpp_file() -> int:
    path = GOLDEN / "gguf_writer_cpp.gguf.bin"
    if not path.exists():
        print(f"note: {path.name} absent; run the gguf tests with W2S_UPDATE_GOLDEN=1 first")
        return 0
    r = gguf.GGUFReader(str(path))
    errors: list[str] = []
    names = [f.name for f in r.fields.values()]
    want_names = [k for k, _, _ in CPP_KEYS]
    # GGUF.version, GGUF.tensor_count, GGUF.kv_count are the reader's pseudo-fields.
    if [n for n in names if not n.startswith("GGUF.")] != want_names:
        errors.append(f"keys {names} != {want_names}")
    for key, vtype, want in CPP_KEYS:
        f = r.get_field(key)
        if f is None:
            errors.append(f"{key}: missing")
            continue
        types = tuple(f.types) if isinstance(vtype, tuple) else f.types[0]
        if types != vtype:
            errors.append(f"{key}: types {f.types} != {vtype}")
        got = f.contents()
        if isinstance(want, float) and isinstance(got, float):
            ok = struct.pack("<d", got) == struct.pack("<d", want)
        else:
            ok = got == want
        if not ok:
            errors.append(f"{key}: value {got!r} != {want!r}")
    empty = r.get_field("c.empty_array")
    if empty is not None and (int(empty.parts[3][0]), int(empty.parts[4][0])) != (int(VT.INT32), 0):
        errors.append(f"c.empty_array: element type {int(empty.parts[3][0])}, length {int(empty.parts[4][0])}")
    if len(r.tensors) != len(CPP_TENSORS):
        errors.append(f"{len(r.tensors)} tensors, expected {len(CPP_TENSORS)}")
    for i, ((name, qtype, ne), t) in enumerate(zip(CPP_TENSORS, r.tensors)):
        if t.name != name or t.tensor_type != qtype or list(map(int, t.shape)) != ne:
            errors.append(f"tensor {i}: {t.name} {t.tensor_type.name} {list(t.shape)} != {name} {qtype.name} {ne}")
        if t.data_offset % r.alignment != 0:
            errors.append(f"tensor {name}: data offset {t.data_offset} not aligned to {r.alignment}")
        if t.data.tobytes() != cpp_tensor_bytes(i, qtype, ne):
            errors.append(f"tensor {name}: bytes differ")
    for e in errors:
        print("MISMATCH", e)
    print(f"checked {path.name} with gguf.GGUFReader: {len(CPP_KEYS)} keys, {len(CPP_TENSORS)} tensors, "
          f"{len(errors)} mismatches")
    return 1 if errors else 0


def main() -> int:
    GOLDEN.mkdir(parents=True, exist_ok=True)
    if "--check-only" not in sys.argv:
        make_dequant(np.random.default_rng(20240607))
        make_python_file()
    return check_cpp_file()


if __name__ == "__main__":
    sys.exit(main())
