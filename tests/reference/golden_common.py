"""Helpers shared by the golden-file scripts of tests/reference (no ML packages needed here)."""


def fnv1a64_ids(ids):
    """FNV-1a 64 over the ids as little-endian int32 bytes, as hex (the C++ tests compute the same:
    w2s::test::fnv1a64_ids)."""
    h = 0xCBF29CE484222325
    for i in ids:
        for b in int(i).to_bytes(4, "little", signed=True):
            h ^= b
            h = (h * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return f"{h:016x}"
