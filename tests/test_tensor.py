"""QuantizedTensor bookkeeping and the numpy reference backend's maths."""
import numpy as np
import pytest
from gguf import GGMLQuantizationType
from gguf import quants as gguf_quants

import fusedq
from fusedq.backends.numpy_ref.activations import PARTNER_BLOCK, quantize_q8
from fusedq.types import QTYPES

from blocks_util import ALL_TYPES, random_blocks, random_tensor


def nmse(a, b):
    return float(np.sum((a - b) ** 2) / np.sum(b ** 2))


@pytest.mark.parametrize("name", ALL_TYPES)
def test_numpy_dequantize_matches_gguf_bit_exact(name):
    qt = QTYPES[name]
    cols = 2 * max(qt.block_size, 32)
    raw = random_blocks(qt, 5, cols, seed=7)
    t = fusedq.QuantizedTensor.from_bytes(raw, name, (5, cols))
    ours = t.dequantize(backend="numpy")
    oracle = gguf_quants.dequantize(raw, GGMLQuantizationType[name])
    assert ours.dtype == np.float32 and ours.shape == (5, cols)
    np.testing.assert_array_equal(ours, oracle)


@pytest.mark.parametrize("name", ALL_TYPES)
def test_numpy_matmul_is_exact_in_f32_mode_and_close_in_q8_mode(name):
    qt = QTYPES[name]
    cols = 2 * max(qt.block_size, 32)
    t = random_tensor(name, 7, cols, seed=3)
    x = np.random.default_rng(5).standard_normal((3, cols)).astype(np.float32)
    exact = x.astype(np.float64) @ t.dequantize(backend="numpy").astype(np.float64).T
    y = t.matmul(x, backend="numpy")
    assert y.shape == (3, 7) and y.dtype == np.float32
    assert np.linalg.norm(y - exact) / np.linalg.norm(exact) <= 1e-5
    assert nmse(t.matmul(x, "q8", backend="numpy"), exact) <= 5e-4
    np.testing.assert_allclose(t.matmul(x[1], backend="numpy"), y[1], rtol=1e-6, atol=1e-6)


def test_numpy_matmul_chunks_rows_larger_than_one_chunk(monkeypatch):
    from fusedq.backends import numpy_ref
    monkeypatch.setattr(numpy_ref, "CHUNK_FLOATS", 64)
    t = random_tensor("Q4_0", 9, 64, seed=1)
    x = np.ones(64, dtype=np.float32)
    np.testing.assert_allclose(t.matmul(x, backend="numpy"),
                               t.dequantize(backend="numpy").sum(axis=1), rtol=1e-5)


@pytest.mark.parametrize("partner", sorted(PARTNER_BLOCK))
def test_q8_activation_scheme(partner):
    block = PARTNER_BLOCK[partner]
    x = np.random.default_rng(2).standard_normal((2, 2 * block)).astype(np.float32)
    x[1, :block] = 0.0  # an all-zero block quantizes to zeros, not NaN
    q, d = quantize_q8(x, block)
    assert q.dtype == np.int8 and d.dtype == np.float32
    assert np.abs(q).max() == 127
    assert d[1, 0] == 0 and not q[1, 0].any()
    deq = (q * d[..., None]).reshape(x.shape)
    # q rounds x / d32 (d32 = amax / 127); 32-blocks store d32 rounded to float16 (llama.cpp's
    # rounding), which moves each value by at most 127 * |d - d32|
    d32 = (np.abs(x).reshape(2, 2, block).max(axis=-1) / np.float32(127)).astype(np.float32)
    if block == 32:
        assert np.array_equal(d, d32.astype(np.float16).astype(np.float32))
    else:
        assert np.array_equal(d, d32)
    bound = d32 / 2 + 127 * np.abs(d - d32) + 1e-7
    assert np.all(np.abs(deq - x) <= np.repeat(bound, block, axis=-1).reshape(x.shape))


def test_get_rows_returns_only_those_rows():
    t = random_tensor("Q6_K", 6, 256, seed=4)
    full = t.dequantize(backend="numpy")
    np.testing.assert_array_equal(t.get_rows([4, 0, 4], backend="numpy"), full[[4, 0, 4]])
    assert t.get_rows([], backend="numpy").shape == (0, 256)
    with pytest.raises(IndexError, match="row id 6 out of range"):
        t.get_rows([6])
    with pytest.raises(IndexError, match="row id -1"):
        t.get_rows([-1])
    with pytest.raises(TypeError):
        t.get_rows([0.5])


def test_from_bytes_is_zero_copy_and_read_only():
    raw = bytearray(random_blocks(QTYPES["Q8_0"], 2, 64).tobytes())
    t = fusedq.QuantizedTensor.from_bytes(raw, "Q8_0", (2, 64))
    assert t.data.shape == (2, 68) and t.nbytes == 136 and t.bits_per_weight == 8.5
    assert not t.data.flags.writeable
    raw[2] ^= 0xFF  # the tensor sees the caller's buffer: no copy was made
    assert t.data[0, 2] == raw[2]
    assert t.qtype == "Q8_0" and t.shape == (2, 64)


def test_from_bytes_errors():
    raw = random_blocks(QTYPES["Q4_K"], 2, 256)
    with pytest.raises(ValueError, match="needs 288 bytes"):
        fusedq.QuantizedTensor.from_bytes(raw.tobytes()[:-1], "Q4_K", (2, 256))
    with pytest.raises(ValueError, match="multiple of 256"):
        fusedq.QuantizedTensor.from_bytes(raw, "Q4_K", (1, 300))
    with pytest.raises(ValueError, match="unknown tensor type"):
        fusedq.QuantizedTensor.from_bytes(raw, "Q4_Z", (2, 256))
    with pytest.raises(TypeError):
        fusedq.QuantizedTensor.from_bytes(12345, "Q4_K", (2, 256))
    with pytest.raises(ValueError, match=">= 1"):
        fusedq.QuantizedTensor.from_bytes(b"", "Q4_K", (0, 256))


def test_matmul_argument_errors_and_conversions():
    t = random_tensor("Q4_1", 4, 64)
    with pytest.raises(ValueError, match="x has 63 columns but this tensor has 64"):
        t.matmul(np.ones(63, np.float32))
    with pytest.raises(ValueError, match="1-D"):
        t.matmul(np.ones((1, 1, 64), np.float32))
    with pytest.raises(TypeError):
        t.matmul(np.array(["a"] * 64))
    with pytest.raises(ValueError, match="activations must be one of"):
        t.matmul(np.ones(64, np.float32), activations="int4")
    x = np.random.default_rng(0).standard_normal((4, 128))
    strided = x[:, ::2]  # float64, non-contiguous
    np.testing.assert_allclose(t.matmul(strided), t.matmul(np.ascontiguousarray(strided, np.float32)))
    assert t.matmul(np.zeros((0, 64), np.float32)).shape == (0, 4)


def test_one_dimensional_tensor():
    w = np.arange(64, dtype=np.float32)
    t = fusedq.QuantizedTensor.from_bytes(w, "F32", (64,))
    assert t.shape == (64,) and t.rows == 1
    np.testing.assert_array_equal(t.dequantize(), w)
