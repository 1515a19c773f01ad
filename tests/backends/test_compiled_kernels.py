"""The compiled backends (scalar, simd) against the exact float64 result, the numpy reference and
gguf's own dequantizers, for every type and both activation modes."""
from __future__ import annotations

import itertools

import gguf
import numpy as np
import pytest
from gguf import quants as gguf_quants

import fusedq
from fusedq.registry import resolve_backend
from fusedq.types import QTYPES


from blocks_util import ALL_TYPES, random_blocks

COMPILED = ["scalar", "simd"]
ROWS = 13                       # odd, not a multiple of the 16-row scheduling tile
NS = [1, 2, 3, 8, 32]           # columns: single, partial groups, one full group, several groups


def cols_for(name: str) -> int:
    return 2 * max(QTYPES[name].block_size, 128)   # 256 or 512 values: several blocks per row


@pytest.fixture(params=COMPILED)
def backend(request):
    try:
        return resolve_backend(request.param).name
    except fusedq.registry.BackendUnavailable as exc:
        if request.param == "simd" and "lacks" in str(exc):
            pytest.skip(f"CPU without AVX2: {exc}")
        raise


_cache: dict = {}


def case(name: str, n: int):
    """(tensor, x, exact float64 result, dequantized W) for one type and column count."""
    key = (name, n)
    if key not in _cache:
        cols = cols_for(name)
        t = fusedq.QuantizedTensor.from_bytes(random_blocks(QTYPES[name], ROWS, cols, seed=7),
                                              name, (ROWS, cols))
        w = gguf_quants.dequantize(t.data, gguf.GGMLQuantizationType(QTYPES[name].gguf_id))
        x = np.random.default_rng(n).standard_normal((n, cols)).astype(np.float32)
        _cache[key] = (t, x, x.astype(np.float64) @ w.astype(np.float64).T, w)
    return _cache[key]


def rel(a, b) -> float:
    return float(np.linalg.norm(np.asarray(a, np.float64) - b) / np.linalg.norm(b))


@pytest.mark.parametrize("n", NS)
@pytest.mark.parametrize("name", ALL_TYPES)
def test_f32_mode_is_exact_within_float_rounding(backend, name, n):
    t, x, exact, _ = case(name, n)
    got = t.matmul(x, "f32", backend=backend)
    assert got.shape == (n, ROWS) and got.dtype == np.float32
    assert rel(got, exact) <= 1e-5
    assert rel(got, t.matmul(x, "f32", backend="numpy").astype(np.float64)) <= 1e-5


@pytest.mark.parametrize("n", NS)
@pytest.mark.parametrize("name", ALL_TYPES)
def test_q8_mode_matches_numpy_reference_and_llama_tolerance(backend, name, n):
    t, x, exact, _ = case(name, n)
    got = t.matmul(x, "q8", backend=backend).astype(np.float64)
    ref = t.matmul(x, "q8", backend="numpy").astype(np.float64)
    assert rel(got, ref) <= 1e-5                     # same 8-bit activations, float rounding only
    nmse = float(np.sum((got - exact) ** 2) / np.sum(exact ** 2))
    assert nmse <= 5e-4


@pytest.mark.parametrize("name", ["F32", "Q4_0", "Q4_K", "Q6_K", "IQ4_XS"])
def test_q8_really_quantizes_the_activations(backend, name):
    """q8 differs from f32 for quantized types (it is not silently the f32 path)."""
    t, x, _, _ = case(name, 3)
    same = np.array_equal(t.matmul(x, "q8", backend=backend), t.matmul(x, "f32", backend=backend))
    assert same == (not QTYPES[name].is_quantized)


@pytest.mark.parametrize("mode", ["f32", "q8"])
@pytest.mark.parametrize("name", ["F16", "Q5_1", "Q4_K"])
def test_one_dimensional_x(backend, name, mode):
    t, x, _, _ = case(name, 1)
    got = t.matmul(x[0], mode, backend=backend)
    assert got.shape == (ROWS,)
    assert np.array_equal(got, t.matmul(x, mode, backend=backend)[0])


@pytest.mark.parametrize("mode", ["f32", "q8"])
@pytest.mark.parametrize("name", ALL_TYPES)
def test_results_do_not_depend_on_thread_count(backend, name, mode):
    qt = QTYPES[name]
    rows, cols = 37, cols_for(name)     # several row tiles
    t = fusedq.QuantizedTensor.from_bytes(random_blocks(qt, rows, cols, seed=3), name, (rows, cols))
    for n in (1, 11):                   # GEMV; GEMM with one full and one partial column group
        x = np.random.default_rng(5).standard_normal((n, cols)).astype(np.float32)
        before = fusedq.get_num_threads()
        try:
            results = []
            for threads in (1, 2, 3):
                fusedq.set_num_threads(threads)
                results.append(t.matmul(x, mode, backend=backend))
        finally:
            fusedq.set_num_threads(before)
        for other in results[1:]:
            assert np.array_equal(results[0].view(np.uint32), other.view(np.uint32)), n


@pytest.mark.parametrize("name", ALL_TYPES)
def test_dequantize_is_bit_exact_with_gguf_and_numpy(backend, name):
    t, _, _, w = case(name, 1)
    got = t.dequantize(backend=backend)
    assert got.dtype == np.float32 and got.shape == t.shape
    assert np.array_equal(got.view(np.uint32), w.view(np.uint32).reshape(got.shape))
    ref = t.dequantize(backend="numpy")
    assert np.array_equal(got.view(np.uint32), ref.view(np.uint32))


@pytest.mark.parametrize("name", ALL_TYPES)
def test_get_rows_equals_numpy(backend, name):
    t, _, _, _ = case(name, 1)
    for ids in ([0], [12, 3, 3, 0], list(range(ROWS))[::-1]):
        got = t.get_rows(ids, backend=backend)
        ref = t.get_rows(ids, backend="numpy")
        assert got.shape == (len(ids), t.cols)
        assert np.array_equal(got.view(np.uint32), ref.view(np.uint32))
    assert t.get_rows([], backend=backend).shape == (0, t.cols)


def test_zero_activations_give_zero(backend):
    t, x, _, _ = case("Q4_K", 2)
    for mode in ("f32", "q8"):
        assert np.array_equal(t.matmul(np.zeros_like(x), mode, backend=backend),
                              np.zeros((2, ROWS), np.float32))


def test_q8_extremes_do_not_saturate(backend):
    """Q8_0 weights at -128/127 against activations at +-amax: the largest integer products the
    maddubs path sees. An int16 saturation would show up as a large error."""
    cols, rows = 64, 4
    blocks = np.zeros((rows, cols // 32, 34), np.uint8)
    blocks[:, :, 0:2] = np.array([0.01], np.float16).view(np.uint8)
    q = np.full((rows, cols // 32, 32), -128, np.int8)
    q[1] = 127
    q[2, :, ::2] = -128
    q[2, :, 1::2] = 127
    q[3] = np.random.default_rng(0).integers(-128, 128, size=q[3].shape, dtype=np.int8)
    blocks[:, :, 2:] = q.view(np.uint8)
    t = fusedq.QuantizedTensor.from_bytes(blocks, "Q8_0", (rows, cols))
    x = np.where(np.arange(cols) % 2 == 0, 3.0, -3.0).astype(np.float32)[None].repeat(2, 0)
    x[1] = 3.0
    got = t.matmul(x, "q8", backend=backend).astype(np.float64)
    ref = t.matmul(x, "q8", backend="numpy").astype(np.float64)
    np.testing.assert_allclose(got, ref, rtol=1e-5, atol=1e-4)


@pytest.mark.parametrize("name", ["Q4_1", "Q6_K"])
def test_large_and_tiny_activation_magnitudes(backend, name):
    t, x, _, _ = case(name, 3)
    scaled = x * np.array([[1e-30], [1.0], [1e30]], np.float32)
    for mode in ("f32", "q8"):
        got = t.matmul(scaled, mode, backend=backend).astype(np.float64)
        ref = t.matmul(scaled, mode, backend="numpy").astype(np.float64)
        for i in range(3):
            assert rel(got[i], ref[i]) <= 1e-5


def test_concurrent_python_threads_get_correct_results(backend):
    """The kernels release the GIL; concurrent calls must not interfere."""
    from concurrent.futures import ThreadPoolExecutor
    t, x, _, _ = case("Q5_K", 8)
    expected = t.matmul(x, "q8", backend=backend)
    with ThreadPoolExecutor(4) as pool:
        outs = list(pool.map(lambda _: t.matmul(x, "q8", backend=backend), range(8)))
    for out in outs:
        assert np.array_equal(out, expected)


QUANT_TYPES = [n for n in ALL_TYPES if QTYPES[n].act_partner]


@pytest.mark.parametrize("name", QUANT_TYPES)
@pytest.mark.parametrize("n", [6, 27])
def test_q8_gemm_tiles_over_long_rows(backend, name, n):
    """Batches use the GEMM tile kernels (8 or 16 rows x all columns); rows longer than one
    tile's K chunk (2048 for 8 rows, 1024 for the AVX-512 build's 16) are summed over several
    chunks. 4352 = 17 x 256 values: full chunks and a partial one; 19 rows: a full tile and a
    partial one; 6 columns: a pass of 4 + 2 (8-row tiles); 27: passes of 4 or 8 and a rest, the
    AVX-512 build's 16-row tiles (from 12 columns for the K family)."""
    rows, cols = 19, 4352
    t = fusedq.QuantizedTensor.from_bytes(random_blocks(QTYPES[name], rows, cols, seed=11),
                                          name, (rows, cols))
    x = np.random.default_rng(5).standard_normal((n, cols)).astype(np.float32)
    got = t.matmul(x, "q8", backend=backend)
    ref = t.matmul(x, "q8", backend="numpy").astype(np.float64)
    assert rel(got, ref) <= 1e-5
    one_by_one = np.stack([t.matmul(x[j], "q8", backend=backend) for j in range(n)])
    assert rel(got, one_by_one.astype(np.float64)) <= 1e-6


def placed(values: np.ndarray, offset: int) -> np.ndarray:
    """A copy of values starting `offset` bytes past a 64-byte boundary."""
    raw = np.empty(values.nbytes + 128, np.uint8)
    start = -raw.ctypes.data % 64 + offset
    out = raw[start:start + values.nbytes].view(np.float32)
    out[:] = values
    return out


@pytest.mark.parametrize("name", QUANT_TYPES)
def test_f32_gemv_over_long_rows_and_unaligned_x(backend, name):
    """One f32 activation row (GEMV). 4352 values: the AVX-512 build fetches the scales of the
    32-blocks 16 blocks at a time, so 136 blocks are 8 full fetches and a partial one (17
    256-blocks); 19 rows: a full row tile and a partial one. x at an address off the 64-byte
    grid is copied to an aligned one first: the same result, bit for bit."""
    rows, cols = 19, 4352
    t = fusedq.QuantizedTensor.from_bytes(random_blocks(QTYPES[name], rows, cols, seed=17),
                                          name, (rows, cols))
    w = gguf_quants.dequantize(t.data, gguf.GGMLQuantizationType(QTYPES[name].gguf_id))
    values = np.random.default_rng(8).standard_normal(cols).astype(np.float32)
    x, unaligned_x = placed(values, 0), placed(values, 4)
    got = t.matmul(x, "f32", backend=backend)
    exact = w.astype(np.float64) @ x.astype(np.float64)
    assert rel(got, exact) <= 1e-5
    assert rel(got, t.matmul(x, "f32", backend="numpy").astype(np.float64)) <= 1e-5
    np.testing.assert_array_equal(t.matmul(unaligned_x, "f32", backend=backend), got)


@pytest.mark.parametrize("name", [n for n in QUANT_TYPES if QTYPES[n].block_size == 32])
def test_small_q8_batches_equal_their_columns_alone(backend, name):
    """32-blocks: up to 4 columns run the GEMV (simd: each block decoded once for all of them) or
    the per-row dots (scalar); either way every column gets the operations it gets alone: the
    same bits. 37 rows: 9 steps of 4 rows and one row by the dots."""
    rows, cols = 37, cols_for(name)
    t = fusedq.QuantizedTensor.from_bytes(random_blocks(QTYPES[name], rows, cols, seed=29),
                                          name, (rows, cols))
    x = np.random.default_rng(30).standard_normal((4, cols)).astype(np.float32)
    alone = np.stack([t.matmul(x[j], "q8", backend=backend) for j in range(4)])
    for n in (2, 3, 4):
        got = t.matmul(x[:n], "q8", backend=backend)
        assert np.array_equal(got.view(np.uint32), alone[:n].view(np.uint32)), n


@pytest.mark.parametrize("name", QUANT_TYPES)
def test_f32_gemm_over_long_rows_and_ragged_tiles(backend, name):
    """f32 activation batches (simd: 4 rows at a time decoded, 2048 values per row, then 4 x 6
    (AVX-512) or 4 x 3 (AVX2) register tiles): 4352 values are chunks of 2048, 2048 and 256
    added in turn; 19 rows: a call of 16 and one of 3 (row groups of 4 and 3); 4 columns (the
    fewest a GEMM takes) and 13 (groups of 5, 4, 4; AVX2: 3, 3, 3, 2, 2). Against the exact
    product and the numpy reference."""
    rows, cols = 19, 4352
    t = fusedq.QuantizedTensor.from_bytes(random_blocks(QTYPES[name], rows, cols, seed=19),
                                          name, (rows, cols))
    w = gguf_quants.dequantize(t.data, gguf.GGMLQuantizationType(QTYPES[name].gguf_id))
    for n in (4, 13):
        x = np.random.default_rng(9 + n).standard_normal((n, cols)).astype(np.float32)
        got = t.matmul(x, "f32", backend=backend)
        assert rel(got, x.astype(np.float64) @ w.astype(np.float64).T) <= 1e-5, n
        assert rel(got, t.matmul(x, "f32", backend="numpy").astype(np.float64)) <= 1e-5, n


@pytest.mark.parametrize("name", ["F32", "F16", "Q4_0", "Q8_0", "Q4_K"])
def test_f32_gemm_of_rows_4kb_apart(backend, name):
    """A batch whose x rows lie 4 KB apart (1024 floats) is read from a copy with spread rows
    (the GEMM tiles' rows would share L1 sets), with or without per-16 sums after each row."""
    rows, cols = 21, 1024
    t = fusedq.QuantizedTensor.from_bytes(random_blocks(QTYPES[name], rows, cols, seed=23),
                                          name, (rows, cols))
    w = gguf_quants.dequantize(t.data, gguf.GGMLQuantizationType(QTYPES[name].gguf_id))
    x = np.random.default_rng(24).standard_normal((9, cols)).astype(np.float32)
    got = t.matmul(x, "f32", backend=backend)
    assert rel(got, x.astype(np.float64) @ w.astype(np.float64).T) <= 1e-5
    assert rel(got, t.matmul(x, "f32", backend="numpy").astype(np.float64)) <= 1e-5


@pytest.mark.parametrize("name", ["F32", "F16", "BF16"])
def test_float_gemm_tiles_with_ragged_edges(backend, name):
    """Float weights with 4+ columns take register-tiled GEMM kernels: rows, columns and the row
    length need not fill a tile (1001 = two k ranges of the AVX-512 tiles, 512 + 489, and 489 =
    30 steps of 16 + one of 8 + 1; 13 columns = two groups of 6 + 1)."""
    rows, cols = 7, 1001
    t = fusedq.QuantizedTensor.from_bytes(random_blocks(QTYPES[name], rows, cols, seed=13),
                                          name, (rows, cols))
    w = gguf_quants.dequantize(t.data, gguf.GGMLQuantizationType(QTYPES[name].gguf_id))
    for n, mode in itertools.product((5, 13), ("f32", "q8")):
        x = np.random.default_rng(6 + n).standard_normal((n, cols)).astype(np.float32)
        exact = x.astype(np.float64) @ w.astype(np.float64).T
        got = t.matmul(x, mode, backend=backend)
        assert rel(got, exact) <= 1e-5, (n, mode)
        one_by_one = np.stack([t.matmul(x[j], mode, backend=backend) for j in range(n)])
        assert rel(got, one_by_one.astype(np.float64)) <= 1e-6, (n, mode)
