"""A safetensors file written by hand (struct + json, following the format's spec), for
test/strict/io.test.ts to compare io.save's bytes with, byte by byte.
Run: python3 scripts/safetensors_fixture.py > test/fixtures/safetensors_reference.json

The spec (https://github.com/huggingface/safetensors): u64 little-endian header size N,
then N bytes of JSON ({"__metadata__": {str: str}, name: {"dtype", "shape",
"data_offsets": [begin, end]}}), padded with spaces to a multiple of 8, then the data,
tensors laid out by dtype (F64, F32, I32, BOOL: the reference Dtype enum, descending)
and then by name.
"""
import base64
import json
import struct

F32_BITS = [0x3FC00000, 0xC0000000, 0x3DCCCCCD, 0x80000000, 0x7F800000, 0x00000001]  # 1.5 -2 0.1 -0 inf 1e-45
BIAS_BITS = [0x7FC00001, 0xFF800000]  # a NaN with a payload, -inf
tensors = [  # name, dtype, shape, raw little-endian bytes
    ("layers.1.weight", "F64", [1, 2], struct.pack("<2d", 0.1, -1e308)),
    ("empty", "F32", [0], b""),
    ("layers.0.bias", "F32", [2], struct.pack("<2I", *BIAS_BITS)),
    ("layers.0.weight", "F32", [2, 3], struct.pack("<6I", *F32_BITS)),
    ("step", "I32", [], struct.pack("<i", -7)),
    ("mask", "BOOL", [3], bytes([1, 0, 1])),
]
parts = ['"__metadata__":' + json.dumps({"format": "pt", "note": "hand-written"}, separators=(",", ":"))]
data = b""
for name, dtype, shape, raw in tensors:
    entry = {"dtype": dtype, "shape": shape, "data_offsets": [len(data), len(data) + len(raw)]}
    parts.append(json.dumps(name) + ":" + json.dumps(entry, separators=(",", ":")))
    data += raw
header = ("{" + ",".join(parts) + "}").encode()
header += b" " * ((8 - len(header) % 8) % 8)
blob = struct.pack("<Q", len(header)) + header + data
print(json.dumps({"f32Bits": F32_BITS, "biasBits": BIAS_BITS, "base64": base64.b64encode(blob).decode()}, indent=1))
