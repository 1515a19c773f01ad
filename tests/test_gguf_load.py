"""load_gguf on the real models (checked against gguf-py's reader) and on small written files."""
import os
import subprocess
import sys
import textwrap
from collections import Counter

import gguf
import numpy as np
import pytest

import fusedq


def test_smollm2_matches_gguf_reader(smollm_path):
    ours = fusedq.load_gguf(smollm_path)
    ref = gguf.GGUFReader(smollm_path)
    assert ours.architecture == "llama"
    assert len(ours.tensors) == len(ref.tensors) == 272
    assert Counter(t.qtype for t in ours.tensors.values()) == {"F32": 61, "Q4_1": 210, "Q8_0": 1}
    for rt in ref.tensors:
        t = ours.tensors[rt.name]
        assert t.qtype == rt.tensor_type.name
        assert t.shape == tuple(int(d) for d in reversed(rt.shape))
        assert ours.data_offset + ours.tensor_infos[rt.name].offset == rt.data_offset
    name = "blk.3.ffn_down.weight"
    rt = next(r for r in ref.tensors if r.name == name)
    expected = gguf.quants.dequantize(rt.data, rt.tensor_type)
    np.testing.assert_array_equal(ours.tensors[name].dequantize(backend="numpy"), expected)
    # metadata values come back as Python values, equal to what gguf-py decodes
    assert ours.metadata["llama.block_count"] == 30
    assert ours.metadata["tokenizer.ggml.model"] == "gpt2"
    assert len(ours.metadata["tokenizer.ggml.tokens"]) == 49152
    field = ref.fields["tokenizer.ggml.merges"]
    assert ours.metadata["tokenizer.ggml.merges"][:50] == [
        bytes(field.parts[i]).decode() for i in field.data[:50]]


def test_gemma3_loads_with_expected_structure(gemma_path):
    g = fusedq.load_gguf(gemma_path)
    assert g.architecture == "gemma3"
    assert len(g.tensors) == 236
    assert Counter(t.qtype for t in g.tensors.values()) == {
        "F32": 109, "Q5_0": 81, "Q4_K": 27, "Q8_0": 10, "Q6_K": 9}
    assert g.tensors["token_embd.weight"].shape == (262144, 640)
    assert g.tensors["blk.0.ffn_down.weight"].qtype == "Q6_K"
    assert g.tensors["blk.0.ffn_down.weight"].shape == (640, 2048)
    assert g.metadata["gemma3.block_count"] == 18
    assert len(g.metadata["tokenizer.ggml.tokens"]) == 262144
    assert g.metadata["tokenizer.ggml.scores"].shape == (262144,)


def test_gemma3_load_is_zero_copy(gemma_path):
    """Mapping the 253 MB file and dequantizing one tensor must not pull the file into memory."""
    code = textwrap.dedent(f"""
        import fusedq
        def rss_mb():
            with open("/proc/self/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        return int(line.split()[1]) / 1024
        before = rss_mb()
        g = fusedq.load_gguf({str(gemma_path)!r})
        w = g.tensors["blk.0.attn_output.weight"].dequantize(backend="numpy")
        rows = g.tensors["token_embd.weight"].get_rows([1, 2, 3], backend="numpy")
        print(rss_mb() - before)
        """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    growth_mb = float(out.stdout.strip())
    assert growth_mb < 80, f"loading grew RSS by {growth_mb:.0f} MB (file is 253 MB)"


def write_gguf(path, tensors, arch="llama", extra=None):
    w = gguf.GGUFWriter(str(path), arch)
    for key, value in (extra or {}).items():
        w.add_string(key, value) if isinstance(value, str) else w.add_uint32(key, value)
    for name, (array, raw_dtype) in tensors.items():
        w.add_tensor(name, array, raw_dtype=raw_dtype)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def test_small_written_file_round_trips(tmp_path):
    rng = np.random.default_rng(0)
    f32 = rng.standard_normal((3, 64)).astype(np.float32)
    q8 = gguf.quants.quantize(f32, gguf.GGMLQuantizationType.Q8_0)
    vec = rng.standard_normal(64).astype(np.float32)
    path = tmp_path / "small.gguf"
    write_gguf(path, {"w.f32": (f32, None), "w.q8": (q8, gguf.GGMLQuantizationType.Q8_0),
                      "norm": (vec, None)}, extra={"test.name": "small", "test.count": 7})
    g = fusedq.load_gguf(path)
    assert g.architecture == "llama"
    assert g.metadata["test.name"] == "small" and g.metadata["test.count"] == 7
    np.testing.assert_array_equal(g.tensors["w.f32"].dequantize(), f32)
    assert g.tensors["w.q8"].qtype == "Q8_0" and g.tensors["w.q8"].shape == (3, 64)
    np.testing.assert_array_equal(g.tensors["w.q8"].dequantize(),
                                  gguf.quants.dequantize(q8, gguf.GGMLQuantizationType.Q8_0))
    assert g.tensors["norm"].shape == (64,)
    np.testing.assert_array_equal(g.tensors["norm"].dequantize(), vec)


def test_load_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such GGUF file"):
        fusedq.load_gguf(tmp_path / "missing.gguf")
    with pytest.raises(IsADirectoryError):
        fusedq.load_gguf(tmp_path)
    empty = tmp_path / "empty.gguf"
    empty.write_bytes(b"")
    with pytest.raises(fusedq.GGUFError, match="empty file"):
        fusedq.load_gguf(empty)
    text = tmp_path / "notes.txt"
    text.write_text("hello, I am not a model")
    with pytest.raises(fusedq.GGUFError, match="bad magic"):
        fusedq.load_gguf(text)
    assert issubclass(fusedq.GGUFError, ValueError)
