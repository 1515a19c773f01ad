"""fusedq.quantize: error per type against llama.cpp's reference quantizers, block validity
(decoded by gguf-py, an independent decoder), edge cases, determinism, argument checks."""
from __future__ import annotations

import numpy as np
import pytest
from gguf import GGMLQuantizationType
from gguf import quants as gguf_quants

import fusedq
from fusedq.quantizers import QUANTIZERS, driver, quantize_matrix
from fusedq.types import QTYPES

# Relative RMSE of llama.cpp's reference quantizers (ggml quantize_chunk without an importance
# matrix) on standard_normal((64, 1024)) drawn with seed 1234.
LLAMA_CPP_RMSE = {
    "Q4_0": 0.0858, "Q4_1": 0.0782, "Q5_0": 0.0425, "Q5_1": 0.0380, "Q8_0": 0.00534,
    "Q2_K": 0.297, "Q3_K": 0.151, "Q4_K": 0.0714, "Q5_K": 0.0362, "Q6_K": 0.0177,
    "IQ4_NL": 0.0761, "IQ4_XS": 0.0767, "F16": 0.00021, "BF16": 0.00165,
}
# The same, measured here with llama.cpp's ggml_quantize_chunk (libggml-base of llama-cpp-python;
# benchmarks/test_bench_quantize.py reruns it) on heavy-tailed data: outliers stress the scale
# searches differently. Input: default_rng(7).standard_t(3, (64, 1024)).
LLAMA_CPP_RMSE_STUDENT_T3 = {
    "Q4_0": 0.1286, "Q4_1": 0.1002, "Q5_0": 0.06606, "Q5_1": 0.04835, "Q8_0": 0.008358,
    "Q2_K": 0.3524, "Q3_K": 0.1911, "Q4_K": 0.09273, "Q5_K": 0.04682, "Q6_K": 0.0254,
    "IQ4_NL": 0.1027, "IQ4_XS": 0.1038,
}
ALL_TYPES = list(QTYPES)
QUANTIZED = [name for name, qt in QTYPES.items() if qt.is_quantized]

pytestmark = pytest.mark.filterwarnings("error")  # no overflow / divide warnings on any input


@pytest.fixture(scope="module")
def gaussian() -> np.ndarray:
    return np.random.default_rng(1234).standard_normal((64, 1024)).astype(np.float32)


def gguf_decode(q: fusedq.QuantizedTensor) -> np.ndarray:
    raw = np.asarray(q.data)
    return gguf_quants.dequantize(raw, GGMLQuantizationType(q.traits.gguf_id)).reshape(q.shape)


def relative_rmse(w: np.ndarray, approx: np.ndarray) -> float:
    return float(np.sqrt(np.mean((w - approx) ** 2)) / np.sqrt(np.mean(w ** 2)))


def test_every_type_has_exactly_one_quantizer():
    assert set(QUANTIZERS) == set(QTYPES)


@pytest.mark.parametrize("name", list(LLAMA_CPP_RMSE))
def test_error_within_2_percent_of_llama_cpp(name, gaussian):
    q = fusedq.quantize(gaussian, name)
    assert q.qtype == name and q.shape == gaussian.shape
    assert relative_rmse(gaussian, gguf_decode(q)) <= 1.02 * LLAMA_CPP_RMSE[name]


@pytest.mark.parametrize("name", list(LLAMA_CPP_RMSE_STUDENT_T3))
def test_error_on_heavy_tailed_data_within_2_percent_of_llama_cpp(name):
    w = np.random.default_rng(7).standard_t(3, (64, 1024)).astype(np.float32)
    q = fusedq.quantize(w, name)
    assert relative_rmse(w, gguf_decode(q)) <= 1.02 * LLAMA_CPP_RMSE_STUDENT_T3[name]


def test_f32_is_exact(gaussian):
    q = fusedq.quantize(gaussian, "F32")
    assert np.array_equal(q.dequantize(), gaussian)


@pytest.mark.parametrize("name", ALL_TYPES)
def test_blocks_decode_the_same_in_gguf_and_fusedq(name, gaussian):
    q = fusedq.quantize(gaussian[:8] * 3 - 0.5, name)
    assert q.data.shape == (8, QTYPES[name].row_bytes(gaussian.shape[1]))
    assert np.array_equal(gguf_decode(q), q.dequantize())


@pytest.mark.parametrize("name", ["F16", "BF16"])
def test_float_types_round_like_numpy_and_gguf(name, gaussian):
    q = np.asarray(fusedq.quantize(gaussian, name).data)
    expected = gguf_quants.quantize(gaussian, GGMLQuantizationType[name])
    assert np.array_equal(q.reshape(-1), np.ascontiguousarray(expected).view(np.uint8).reshape(-1))


@pytest.mark.parametrize("name", ALL_TYPES)
def test_all_zero_input_gives_zero_blocks(name):
    q = fusedq.quantize(np.zeros((2, 512), np.float32), name)
    decoded = gguf_decode(q)
    assert np.array_equal(decoded, np.zeros_like(decoded))
    for offset in QTYPES[name].half_fields if QTYPES[name].is_quantized else ():
        fields = np.asarray(q.data).reshape(-1, QTYPES[name].type_size)[:, offset:offset + 2]
        assert not fields.any(), "scale fields of an all-zero block must be +0"


@pytest.mark.parametrize("name", ALL_TYPES)
@pytest.mark.parametrize("value", [0.37, -0.37, 5.0])
def test_constant_input_round_trips(name, value):
    decoded = gguf_decode(fusedq.quantize(np.full((2, 512), value, np.float32), name))
    assert np.abs(decoded - value).max() <= 1e-2 * abs(value)


@pytest.mark.parametrize("name", [n for n in ALL_TYPES if n != "F16"])  # F16 has subnormals
def test_power_of_two_scaling_commutes(name, gaussian):
    """Scaling the input by 2^8 scales every f16 field's exponent and nothing else."""
    w = gaussian[:4]
    base = gguf_decode(fusedq.quantize(w, name))
    scaled = gguf_decode(fusedq.quantize(w * 256, name))
    assert np.array_equal(scaled, base * 256)


@pytest.mark.parametrize("name", ALL_TYPES)
@pytest.mark.parametrize("magnitude", [1e9, 3e38])
def test_huge_values_saturate_without_inf(name, magnitude, gaussian):
    w = np.clip(gaussian[:2] / np.abs(gaussian[:2]).max() * magnitude, -3.4e38, 3.4e38)
    q = fusedq.quantize(w.astype(np.float32), name)
    decoded = gguf_decode(q)
    assert np.isfinite(decoded).all()
    # the largest value still comes back as a large value of the right sign (at least the
    # largest f16: every type can represent that much)
    i = np.unravel_index(np.argmax(np.abs(w)), w.shape)
    assert np.sign(decoded[i]) == np.sign(w[i]) and abs(decoded[i]) >= 65504


@pytest.mark.parametrize("name", ALL_TYPES)
def test_tiny_values_give_zeros_or_finite_values(name, gaussian):
    decoded = gguf_decode(fusedq.quantize(gaussian[:2] * 1e-30, name))
    assert np.isfinite(decoded).all()
    assert np.abs(decoded).max() <= 1e-29
    decoded = gguf_decode(fusedq.quantize(gaussian[:2] * 1e-4, name))
    assert np.isfinite(decoded).all()
    assert relative_rmse(gaussian[:2] * 1e-4, decoded) < 0.6


@pytest.mark.parametrize("name", ALL_TYPES)
def test_rows_are_quantized_independently(name, gaussian):
    block = QTYPES[name].block_size
    cols = max(block, 256)
    w = gaussian[:3, :cols]
    whole = np.asarray(fusedq.quantize(w, name).data)
    single = np.asarray(fusedq.quantize(w[1:2], name).data)
    assert single.shape == (1, whole.shape[1])
    assert np.array_equal(single[0], whole[1])


@pytest.mark.parametrize("name", ALL_TYPES)
def test_deterministic_across_runs_chunks_and_threads(name, gaussian, monkeypatch):
    w = np.ascontiguousarray(gaussian[:16])
    first = quantize_matrix(w, QTYPES[name], threads=1)
    monkeypatch.setattr(driver, "CHUNK_VALUES", 2048)  # many chunks, run on 2 threads
    again = quantize_matrix(w, QTYPES[name], threads=2)
    assert np.array_equal(first, again)
    assert np.array_equal(np.asarray(fusedq.quantize(w, name).data), first)


def test_integer_input_is_accepted():
    w = np.arange(-128, 128, dtype=np.int16).reshape(1, 256)
    decoded = fusedq.quantize(w, "Q8_0").dequantize()
    assert np.abs(decoded - w).max() <= 1.0


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_nan_and_inf_are_rejected(bad):
    w = np.zeros((2, 32), np.float32)
    w[1, 5] = bad
    with pytest.raises(ValueError, match="NaN or Inf"):
        fusedq.quantize(w, "Q4_0")


def test_float64_overflowing_float32_is_rejected():
    with pytest.raises(ValueError, match="NaN or Inf"):
        fusedq.quantize(np.full((1, 32), 1e300), "Q8_0")


@pytest.mark.parametrize("shape", [(256,), (2, 2, 256), ()])
def test_wrong_rank_is_rejected(shape):
    with pytest.raises(ValueError, match="2-D"):
        fusedq.quantize(np.zeros(shape, np.float32), "Q4_K")


def test_empty_matrix_is_rejected():
    with pytest.raises(ValueError, match="at least one row"):
        fusedq.quantize(np.zeros((0, 256), np.float32), "Q4_K")


@pytest.mark.parametrize("name", QUANTIZED)
def test_columns_must_fill_whole_blocks(name):
    cols = QTYPES[name].block_size + 16
    with pytest.raises(ValueError, match=f"multiple of {QTYPES[name].block_size}"):
        fusedq.quantize(np.zeros((2, cols), np.float32), name)


@pytest.mark.parametrize("w", [np.array([["a"] * 32]), np.zeros((1, 32), bool),
                               np.zeros((1, 32), complex), np.array([[object()] * 32])])
def test_non_numeric_input_is_a_type_error(w):
    with pytest.raises(TypeError):
        fusedq.quantize(w, "Q8_0")


def test_unknown_type_name_is_rejected():
    with pytest.raises(ValueError, match="unknown tensor type"):
        fusedq.quantize(np.zeros((1, 32), np.float32), "Q4_K_M")


def test_iq4_grid_lookup_matches_brute_force_nearest():
    from fusedq.quantizers.iq4 import GRID, nearest_index
    rng = np.random.default_rng(3)
    midpoints = (GRID[:-1] + GRID[1:]) / 2
    values = np.concatenate([rng.uniform(-200, 200, 5000), midpoints, GRID, [-1e9, 1e9]])
    values = values.astype(np.float32)
    dist = np.abs(values[:, None].astype(np.float64) - GRID[None, :])
    # nearest value; on an exact tie the upper one (what llama.cpp's best_index_int8 picks)
    expected = 15 - np.argmin(dist[:, ::-1], axis=1)
    assert np.array_equal(nearest_index(values), expected)


@pytest.mark.parametrize("name", ["Q8_0", "Q4_K"])
def test_layout_and_dtype_of_the_input_do_not_matter(name, gaussian):
    w = gaussian[:4, :512]
    expected = np.asarray(fusedq.quantize(w, name).data)
    fortran = np.asfortranarray(w)
    strided = np.ascontiguousarray(np.repeat(w, 2, axis=1))[:, ::2]
    for variant in (fortran, strided, w.astype(np.float64)):
        assert np.array_equal(np.asarray(fusedq.quantize(variant, name).data), expected)
