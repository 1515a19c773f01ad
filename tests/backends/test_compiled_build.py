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
    assert info["target"] == "AVX2+FMA+F16C"
    assert set(info["kernels"].values()) == {"avx2"}
    assert fusedq.available_backends()[0] == "simd"


def test_missing_features_names_what_is_lacking():
    cpu = dict(avx2=False, fma=True, f16c=True, os_saves_ymm=False)
    assert simd_pkg.missing_features(cpu) == ["avx2", "os_saves_ymm"]


def test_cpu_probe_agrees_with_proc_cpuinfo():
    try:
        flags = open("/proc/cpuinfo").read().split()
    except OSError:
        pytest.skip("no /proc/cpuinfo")
    cpu = kernels("scalar").cpu_features()
    for feature in ("avx2", "fma", "f16c", "avx"):
        assert cpu[feature] == (feature in flags), feature


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
