"""Build script: compiles the Cython/C kernel extensions.

OpenMP: the flag is probed with the real compiler; without it (or with FUSEDQ_NO_OPENMP=1) the
kernels build serially with one warning. SIMD: no -march=native anywhere; AVX2/FMA/F16C code is
compiled for that target explicitly and chosen at run time from CPU features.
FUSEDQ_SANITIZE=address builds with AddressSanitizer (see README).
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import warnings
from pathlib import Path

import numpy as np
from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

OPENMP_TEST = r"""
#include <omp.h>
int main(void) { int n = 0;
#pragma omp parallel reduction(+:n)
  n += 1;
  return n > 0 ? 0 : 1; }
"""


def probe_openmp(compiler_cmd: list[str]) -> list[str]:
    """Return the OpenMP flags if this compiler can build and link an OpenMP program, else []."""
    if os.environ.get("FUSEDQ_NO_OPENMP") == "1":
        warnings.warn("FUSEDQ_NO_OPENMP=1: building the kernels without OpenMP (single-threaded)")
        return []
    with tempfile.TemporaryDirectory() as tmp:
        src = os.path.join(tmp, "omp_probe.c")
        with open(src, "w") as f:
            f.write(OPENMP_TEST)
        for flag in ("-fopenmp", "-Xpreprocessor -fopenmp"):
            cmd = [*compiler_cmd, *flag.split(), src, "-o", os.path.join(tmp, "probe"), *flag.split()]
            if subprocess.run(cmd, capture_output=True).returncode == 0:
                return flag.split()
    warnings.warn("the C compiler does not support OpenMP: fusedq kernels will run single-threaded")
    return []


def sanitizer_flags() -> list[str]:
    kind = os.environ.get("FUSEDQ_SANITIZE", "")
    if not kind:
        return []
    if kind != "address":
        sys.exit(f"FUSEDQ_SANITIZE={kind!r}: only 'address' is supported")
    # -O1 (after the extensions' -O3, so it wins): ASan's recommended level, and a 2-3x faster build
    return ["-fsanitize=address", "-fno-omit-frame-pointer", "-g", "-O1"]


class BuildExt(build_ext):
    """Adds the probed OpenMP and sanitizer flags to every extension."""

    def build_extensions(self):
        compiler_cmd = list(self.compiler.compiler_so[:1]) or [sysconfig.get_config_var("CC") or "cc"]
        omp = probe_openmp(compiler_cmd)
        san = sanitizer_flags()
        for ext in self.extensions:
            ext.extra_compile_args = [*ext.extra_compile_args, *omp, *san]
            ext.extra_link_args = [*ext.extra_link_args, *omp, *san]
            ext.define_macros = [*ext.define_macros, ("FUSEDQ_HAVE_OPENMP", "1" if omp else "0")]
        super().build_extensions()


BACKENDS = "fusedq/backends"
COMMON_DIR = f"{BACKENDS}/common"
# C shared by both backends: the row-parallel driver, activation quantizers, the CPU probe.
COMMON_SOURCES = [f"{COMMON_DIR}/{name}" for name in
                  ("matmul_driver.c", "act_quant.c", "cpu_features.c")]
# Each backend: its Cython module plus the C sources beside it. The SIMD sources select the
# AVX2/FMA/F16C target themselves (#pragma GCC target); nothing is built with -march=native.
ENGINE_DIR = "fusedq/model/engine"
BACKEND_SOURCES = {
    "scalar": ["scalar_kernels.c"],
    "simd": ["simd_table.c", "simd_float.c", "simd_legacy.c", "simd_kquants.c", "simd_iq4.c",
             "simd_avx512.c"],
}


def headers(*dirs: str) -> list[str]:
    return sorted(str(p) for d in dirs for p in Path(d).glob("*.h"))


def cython_extensions() -> list[Extension]:
    """The compiled backends: fusedq.backends.<name>._kernels for each entry of BACKEND_SOURCES."""
    extensions: list[Extension] = []
    for name, sources in BACKEND_SOURCES.items():
        here = f"{BACKENDS}/{name}"
        extensions.append(Extension(
            f"fusedq.backends.{name}._kernels",
            sources=[f"{here}/_kernels.pyx", *(f"{here}/{s}" for s in sources), *COMMON_SOURCES],
            include_dirs=[here, COMMON_DIR, np.get_include()],
            depends=headers(here, COMMON_DIR),  # rebuild when a header changes
            define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION")],
            # ISO C mode and no contraction: dequantizers stay bit-exact with gguf.
            extra_compile_args=["-O3", "-std=c11", "-ffp-contract=off", "-fno-math-errno"],
            extra_link_args=["-lm"]))
    extensions.append(Extension(   # the model engine: backend-independent, calls a backend's kernels
        "fusedq.model.engine._engine",
        sources=[f"{ENGINE_DIR}/_engine.pyx", f"{ENGINE_DIR}/engine.c"],
        include_dirs=[ENGINE_DIR, COMMON_DIR, np.get_include()],
        depends=headers(ENGINE_DIR, COMMON_DIR),
        define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION")],
        extra_compile_args=["-O3", "-std=c11", "-ffp-contract=off", "-fno-math-errno"],
        extra_link_args=["-lm"]))
    return extensions


def extensions():
    exts = cython_extensions()
    if not exts:
        return []
    from Cython.Build import cythonize
    return cythonize(exts, language_level=3, include_path=[COMMON_DIR], compiler_directives={
        "boundscheck": False, "wraparound": False, "cdivision": True})


setup(ext_modules=extensions(), cmdclass={"build_ext": BuildExt})
