"""The compiled builds are what they claim: OpenMP compiled in, the SIMD target present and chosen
on this machine, kernel tables consistent with fusedq/types.py, and the Cython layer rejecting
bad buffers before any C code runs."""
from __future__ import annotations

import importlib
import os

import numpy as np
import pytest

import fusedq
from fusedq.backends import simd as simd_pkg
from fusedq.registry import BackendUnavailable, resolve_backend
from fusedq.types import QTYPES


def kernels(name):
    return importlib.import_module(f"fusedq.backends.{name}._kernels")


def cpu_has_avx2() -> bool:
    return not simd_pkg.missing_features(kernels("scalar").cpu_features())


@pytest.mark.parametrize("name", ["scalar", "simd"])
def test_openmp_is_compiled_in(name):
    # This machine's gcc supports OpenMP: a build without it is a silent regression, unless the
    # build was asked for that explicitly (FUSEDQ_NO_OPENMP=1, see setup.py).
    if os.environ.get("FUSEDQ_NO_OPENMP") == "1":
        assert kernels(name).build_info()["openmp"] is False
        pytest.skip("FUSEDQ_NO_OPENMP=1: serial build requested (checked that it is serial)")
    assert kernels(name).build_info()["openmp"] is True


def test_simd_target_present_and_chosen_when_the_cpu_has_it():
    if not cpu_has_avx2():
        with pytest.raises(BackendUnavailable, match="lacks"):
            resolve_backend("simd")
        pytest.skip("this CPU lacks AVX2/FMA/F16C: simd must be unavailable (checked)")
    info = resolve_backend("simd").build_info()
    isa = simd_pkg.choose_isa(simd_pkg.probe_cpu(kernels("scalar")), os.environ.get("FUSEDQ_SIMD_ISA", "auto"))
    assert info["target"] == {"avx2": "AVX2+FMA+F16C", "avx512": "AVX-512 (F/BW/VL/DQ/VNNI)+FMA+F16C",
                              "amx": "AVX-512 (F/BW/VL/DQ/VNNI)+AMX-BF16+FMA+F16C"}[isa]
    # the AMX table: the AVX-512 kernels, with the quantized types' f32 GEMM on AMX tiles
    assert set(info["kernels"].values()) == ({"avx512", "amx"} if isa == "amx" else {isa})
    assert fusedq.available_backends()[0] == "simd"


AVX512_CPU = dict(avx2=True, fma=True, f16c=True, os_saves_ymm=True, avx512f=True, avx512bw=True,
                  avx512vl=True, avx512dq=True, avx512vnni=True, os_saves_zmm=True)
AMX_CPU = dict(AVX512_CPU, amx_tile=True, amx_bf16=True, os_saves_amx=True, amx_permitted=True)


def test_isa_choice_follows_cpu_and_request():
    assert simd_pkg.choose_isa(AVX512_CPU, "auto") == "avx512"
    assert simd_pkg.choose_isa(AVX512_CPU, "") == "avx512"
    assert simd_pkg.choose_isa(AVX512_CPU, "AVX2") == "avx2"
    no_zmm = dict(AVX512_CPU, os_saves_zmm=False)   # the OS does not save the AVX-512 state
    assert simd_pkg.choose_isa(no_zmm, "auto") == "avx2"
    assert simd_pkg.choose_isa(dict(AVX512_CPU, avx512bw=False), "auto") == "avx2"
    assert simd_pkg.choose_isa(dict(AVX512_CPU, avx512vnni=False), "auto") == "avx2"  # Skylake-X
    with pytest.raises(BackendUnavailable, match="lacks avx512bw"):
        simd_pkg.choose_isa(dict(AVX512_CPU, avx512bw=False), "avx512")
    with pytest.raises(ValueError, match="FUSEDQ_SIMD_ISA='sse'"):
        simd_pkg.choose_isa(AVX512_CPU, "sse")


def test_amx_choice_needs_cpu_os_and_permission():
    assert simd_pkg.choose_isa(AMX_CPU, "auto") == "amx"
    assert simd_pkg.choose_isa(AMX_CPU, "avx512") == "avx512"    # the FMA tiles on request
    assert simd_pkg.choose_isa(AMX_CPU, "avx2") == "avx2"
    for lacking in ("amx_bf16", "os_saves_amx", "amx_permitted"):
        assert simd_pkg.choose_isa(dict(AMX_CPU, **{lacking: False}), "auto") == "avx512", lacking
        with pytest.raises(BackendUnavailable, match=f"lacks {lacking}"):
            simd_pkg.choose_isa(dict(AMX_CPU, **{lacking: False}), "amx")
    assert simd_pkg.choose_isa(dict(AMX_CPU, avx512vnni=False), "auto") == "avx2"


def test_avx2_and_avx512_builds_agree_bitwise():
    """Both builds compile the same intrinsics in the same order (no contraction, no fast-math),
    so every kernel but the F16 GEMM tiles, the f32 GEMV and GEMM of quantized types (own zmm
    loops in the AVX-512 build) and the IQ4_NL q8 GEMV (offset grid under VNNI) must give
    bit-identical results; this also runs the AVX2 build on machines where auto picks AVX-512."""
    from fusedq.benchmarking.inputs import activations, random_blocks
    if not cpu_has_avx2() or simd_pkg.missing_features(kernels("scalar").cpu_features(),
                                                       simd_pkg.REQUIRED_AVX512):
        pytest.skip("this CPU/OS cannot run the AVX-512 build")
    resolve_backend("simd")        # loaded: its choice is restored below
    k = kernels("simd")
    target = k.build_info()["target"]
    chosen = (target.startswith("AVX-512"), "AMX" in target)
    rows, cols = 37, 1280   # 1280: two K chunks of the 16-row tiles (1024), 37: 16 + 16 + 5 rows
    try:
        tabled = {row["name"] for row in k.kernel_table()}
        assert len(tabled) >= 15
        for qt in QTYPES.values():
            if qt.name not in tabled:
                continue
            w = random_blocks(qt, rows, cols, seed=3)
            for n in (1, 3, 8, 32):
                x = activations(n, cols, seed=n)
                for use_q8 in (False, True):
                    out = {}
                    for isa in (False, True):
                        k.select_isa(isa)
                        out[isa] = k.matmul(qt.gguf_id, w, cols, x, use_q8, 2)
                    where = f"{qt.name} n={n} q8={use_q8}"
                    f32_own = n in (1, 8, 32) and not use_q8 and qt.block_size > 1
                    iq4_nl_gemv = n <= 4 and use_q8 and qt.name == "IQ4_NL"   # GEMV: n <= 4
                    if (qt.name == "F16" and n >= 4) or f32_own or iq4_nl_gemv:
                        # F16 GEMM tiles: 16 lanes per output in the AVX-512 build, 8 in the
                        # AVX2 build; f32 GEMV of quantized types: 16 lanes, one row at a time,
                        # against 8 lanes and 4 rows, and their f32 GEMM: 16-lane tiles against
                        # 8-lane ones: the same products summed in another order; IQ4_NL q8
                        # GEMV (up to 4 columns): grid + 128 under VNNI, the offset taken back
                        diff = np.linalg.norm(out[True] - out[False]) / np.linalg.norm(out[False])
                        assert diff <= 1e-6, where
                    else:
                        np.testing.assert_array_equal(out[False], out[True], err_msg=where)
    finally:
        k.select_isa(*chosen)


def test_missing_features_names_what_is_lacking():
    cpu = dict(avx2=False, fma=True, f16c=True, os_saves_ymm=False)
    assert simd_pkg.missing_features(cpu) == ["avx2", "os_saves_ymm"]


def test_cpu_probe_agrees_with_proc_cpuinfo():
    try:
        flags = open("/proc/cpuinfo").read().split()
    except OSError:
        pytest.skip("no /proc/cpuinfo")
    cpu = kernels("scalar").cpu_features()
    for feature in ("avx2", "fma", "f16c", "avx", "avx512f", "avx512bw", "avx512vl", "avx512dq", "avx512vnni",
                    "amx_tile", "amx_bf16"):
        flag = {"avx512vnni": "avx512_vnni"}.get(feature, feature)   # the kernel's spelling
        assert cpu[feature] == (flag in flags), feature


@pytest.mark.parametrize("name", ["scalar", "simd"])
def test_kernel_table_matches_type_traits(name):
    table = {row["name"]: row for row in kernels(name).kernel_table()}
    assert set(table) == set(QTYPES)
    for qt in QTYPES.values():
        row = table[qt.name]
        assert (row["type_id"], row["block_size"], row["type_size"]) == (
            qt.gguf_id, qt.block_size, qt.type_size)
        assert row["partner"] == qt.act_partner


@pytest.mark.parametrize("name", ["scalar", "simd"])
def test_show_config_reports_build_facts(name):
    with fusedq.use_backend(name):
        text = fusedq.show_config()
    assert "OpenMP" in text and "avx2" in text.lower()


@pytest.mark.parametrize("name", ["scalar", "simd"])
def test_cython_layer_rejects_bad_buffers(name):
    m = kernels(name)
    q4k = QTYPES["Q4_K"].gguf_id
    data = np.zeros((3, 144), np.uint8)
    x = np.zeros((2, 256), np.float32)
    with pytest.raises(ValueError, match="no kernels"):
        m.matmul(99, data, 256, x, False, 1)
    with pytest.raises(ValueError, match="bytes per row"):
        m.matmul(q4k, data, 512, np.zeros((2, 512), np.float32), False, 1)
    with pytest.raises(ValueError, match="multiple"):
        m.dequantize(q4k, data, 100, 1)
    with pytest.raises(ValueError, match="columns"):
        m.matmul(q4k, data, 256, np.zeros((2, 128), np.float32), True, 1)
    with pytest.raises(ValueError, match="thread"):
        m.matmul(q4k, data, 256, x, True, 0)
    with pytest.raises(IndexError):
        m.get_rows(q4k, data, np.array([0, 3], np.int64), 256, 1)
    with pytest.raises(IndexError):
        m.get_rows(q4k, data, np.array([-1], np.int64), 256, 1)
    with pytest.raises((ValueError, TypeError)):
        m.matmul(q4k, data, 256, np.zeros((2, 256), np.float64), False, 1)


def test_auto_falls_back_to_scalar_without_avx2(monkeypatch):
    """Simulate a CPU without AVX2: simd reports why, and auto picks scalar."""
    from fusedq import registry
    no_simd = dict(x86=True, sse41=True, avx=False, fma=False, f16c=False, avx2=False,
                   avx512f=False, os_saves_ymm=False)
    monkeypatch.setattr(kernels("simd"), "cpu_features", lambda: no_simd)
    monkeypatch.setattr(registry, "_loaded", {})
    monkeypatch.setattr(registry, "_unavailable", {})
    monkeypatch.setattr(registry, "_default", None)
    monkeypatch.delenv("FUSEDQ_BACKEND", raising=False)
    with pytest.raises(BackendUnavailable, match="lacks avx2, fma, f16c, os_saves_ymm"):
        resolve_backend("simd")
    assert registry.get_backend() == "scalar"
    assert fusedq.available_backends() == ["scalar", "numpy"]
