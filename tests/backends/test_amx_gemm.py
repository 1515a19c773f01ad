"""The simd backend's f32-mode GEMM on AMX-BF16 tiles (amx_gemm_f32.h): every quantized type
against the exact float64 product, the numpy reference and the AVX-512 FMA tiles, over the
shapes its loops split (row tiles, 256-value chunks, column tiles and passes of 512 columns),
thread-count invariance, and activations far from 1. Skipped where the CPU, the OS or its
permission rule out AMX (the other suites then run the FMA tiles)."""
from __future__ import annotations

import gguf
import numpy as np
import pytest
from gguf import quants as gguf_quants

import fusedq
from fusedq.backends import simd as simd_pkg
from fusedq.registry import BackendUnavailable, resolve_backend
from fusedq.types import QTYPES

from blocks_util import random_blocks

QUANT_TYPES = [name for name, qt in QTYPES.items() if qt.act_partner]


@pytest.fixture
def amx_kernels():
    """The simd module with its AMX table selected (the backend's own choice restored after)."""
    try:
        resolve_backend("simd")
    except BackendUnavailable as exc:
        pytest.skip(f"simd unavailable: {exc}")
    from fusedq.backends.simd import _kernels as k
    if simd_pkg.missing_features(simd_pkg.probe_cpu(k), simd_pkg.REQUIRED_AMX):
        pytest.skip("this CPU/OS (or its permission) rules out AMX")
    target = k.build_info()["target"]
    k.select_isa(True, True)
    assert "AMX" in k.build_info()["target"]
    yield k
    k.select_isa(target.startswith("AVX-512"), "AMX" in target)


def tensor(name: str, rows: int, cols: int, seed: int):
    t = fusedq.QuantizedTensor.from_bytes(random_blocks(QTYPES[name], rows, cols, seed=seed),
                                          name, (rows, cols))
    w = gguf_quants.dequantize(t.data, gguf.GGMLQuantizationType(QTYPES[name].gguf_id))
    return t, w.astype(np.float64)


def rel(a, b) -> float:
    return float(np.linalg.norm(np.asarray(a, np.float64) - b) / np.linalg.norm(b))


@pytest.mark.parametrize("name", QUANT_TYPES)
def test_amx_gemm_is_exact_within_float_rounding(amx_kernels, name):
    """37 rows: row tiles of 16, 16, 5; 4352 values: 17 chunks of 256; 24, 25, 33 and 70 columns
    (the fewest the driver hands AMX is 24): two column tiles (products alternating between 2 C
    tiles each), three, and 4 + 1 tiles (the last one's products round 4 C tiles). Against the
    exact product, the numpy reference and the FMA tiles."""
    rows, cols = 37, 4352
    t, w = tensor(name, rows, cols, seed=31)
    for n in (24, 25, 33, 70):
        x = np.random.default_rng(n).standard_normal((n, cols)).astype(np.float32)
        got = t.matmul(x, "f32", backend="simd")
        assert got.shape == (n, rows) and np.isfinite(got).all()
        assert rel(got, x.astype(np.float64) @ w.T) <= 1e-5, n
        assert rel(got, t.matmul(x, "f32", backend="numpy").astype(np.float64)) <= 1e-5, n
        amx_kernels.select_isa(True, False)
        try:
            fma = t.matmul(x, "f32", backend="simd").astype(np.float64)
        finally:
            amx_kernels.select_isa(True, True)
        assert rel(got, fma) <= 1e-6, n          # both exact products summed in f32


@pytest.mark.parametrize("name", ["Q4_1", "Q6_K", "IQ4_XS"])
def test_amx_gemm_over_more_than_one_pass_of_columns(amx_kernels, name):
    """530 columns: a pass of 512 (32 column tiles) and one of 18."""
    t, w = tensor(name, 5, 256, seed=41)
    x = np.random.default_rng(42).standard_normal((530, 256)).astype(np.float32)
    got = t.matmul(x, "f32", backend="simd")
    assert rel(got, x.astype(np.float64) @ w.T) <= 1e-5
    per_column = rel(got[-18:], x[-18:].astype(np.float64) @ w.T)
    assert per_column <= 1e-5


@pytest.mark.parametrize("name", ["Q4_0", "Q5_1", "Q2_K", "Q4_K"])
def test_amx_gemm_does_not_depend_on_thread_count(amx_kernels, name):
    t, _ = tensor(name, 45, 512, seed=51)
    x = np.random.default_rng(52).standard_normal((40, 512)).astype(np.float32)
    before = fusedq.get_num_threads()
    try:
        results = []
        for threads in (1, 2, 3):
            fusedq.set_num_threads(threads)
            results.append(t.matmul(x, "f32", backend="simd"))
    finally:
        fusedq.set_num_threads(before)
    for other in results[1:]:
        assert np.array_equal(results[0].view(np.uint32), other.view(np.uint32))


@pytest.mark.parametrize("name", ["Q4_1", "Q3_K", "Q8_0"])
def test_amx_gemm_of_activations_far_from_one(amx_kernels, name):
    """Each column is scaled by a power of two before its bf16 split (the tiles flush denormals):
    columns of 1e-30, 1e-40 (f32 denormals), 1 and 1e30 are each exact within float rounding."""
    t, w = tensor(name, 19, 512, seed=61)
    x = np.random.default_rng(62).standard_normal((32, 512)).astype(np.float32)
    x *= np.array([1e-30, 1e-40, 1.0, 1e30] * 8, np.float32)[:, None]
    got = t.matmul(x, "f32", backend="simd")
    exact = x.astype(np.float64) @ w.T
    for j in range(32):
        assert rel(got[j], exact[j]) <= 1e-5, j


def test_amx_gemm_propagates_nan_to_its_column_only(amx_kernels):
    t, w = tensor("Q4_K", 17, 512, seed=71)
    x = np.random.default_rng(72).standard_normal((24, 512)).astype(np.float32)
    x[3, 100] = np.nan
    got = t.matmul(x, "f32", backend="simd")
    assert np.isnan(got[3]).all()
    others = np.delete(np.arange(24), 3)
    assert rel(got[others], x[others].astype(np.float64) @ w.T) <= 1e-5


def test_amx_gemm_from_concurrent_python_threads(amx_kernels):
    """Each call configures and releases the tiles of the thread it runs on and takes its own
    working memory: concurrent calls (each with its OpenMP threads) give the bits of one call."""
    from concurrent.futures import ThreadPoolExecutor
    t, _ = tensor("Q4_K", 40, 1024, seed=81)
    xs = [np.random.default_rng(82 + i).standard_normal((24 + 8 * i, 1024)).astype(np.float32)
          for i in range(4)]
    expected = [t.matmul(x, "f32", backend="simd") for x in xs]
    with ThreadPoolExecutor(4) as pool:
        outs = list(pool.map(lambda i: t.matmul(xs[i % 4], "f32", backend="simd"), range(12)))
    for i, out in enumerate(outs):
        assert np.array_equal(out.view(np.uint32), expected[i % 4].view(np.uint32)), i
