"""Bad arguments to the public API: a clear ValueError/TypeError/IndexError, for every backend.

Also: float64 and strided activations are accepted and give exactly the contiguous float32 result.
"""
from __future__ import annotations

import math
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import fusedq
from blocks_util import random_blocks, random_tensor
from fusedq.types import QTYPES

BACKENDS = fusedq.available_backends()
TYPES = ["Q4_K", "Q8_0", "Q6_K", "Q4_0", "F16"]
ROWS, COLS = 8, 256


@pytest.fixture(params=BACKENDS)
def backend(request):
    return request.param


@pytest.fixture(autouse=True, scope="module")
def one_kernel_thread():
    """Argument handling does not depend on threads; tiny calls are dominated by OpenMP wake-ups."""
    before = fusedq.get_num_threads()
    fusedq.set_num_threads(1)
    yield
    fusedq.set_num_threads(before)


@pytest.fixture(params=TYPES)
def tensor(request):
    return random_tensor(request.param, ROWS, COLS, seed=7)


# --- matmul ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("x, error, pattern", [
    (np.ones(COLS + 1, np.float32), ValueError, r"x has 257 columns but this tensor has 256"),
    (np.ones(COLS - 32, np.float32), ValueError, r"x has 224 columns"),
    (np.ones((2, 3, COLS), np.float32), ValueError, r"1-D \[cols\] or 2-D \[n, cols\]"),
    (np.float32(1.0), ValueError, r"1-D \[cols\] or 2-D \[n, cols\]"),
    (np.array(["a"] * COLS), TypeError, r"real numeric array"),
    (np.ones(COLS, np.complex64), TypeError, r"real numeric array"),
    (np.ones(COLS, bool), TypeError, r"real numeric array"),
    (None, TypeError, r"real numeric array"),
    ({"x": 1}, TypeError, r"real numeric array"),
    ([[1.0] * COLS, [1.0] * 3], ValueError, r"numeric array \[256\] or \[n, 256\]"),
])
def test_matmul_rejects_bad_x(tensor, backend, x, error, pattern):
    with pytest.raises(error, match=pattern):
        tensor.matmul(x, backend=backend)


@pytest.mark.parametrize("mode", ["f16", "Q8", "", None, 8, ("f32",)])
def test_matmul_rejects_unknown_activation_mode(tensor, backend, mode):
    with pytest.raises(ValueError, match=r"activations must be one of \('f32', 'q8'\)"):
        tensor.matmul(np.ones(COLS, np.float32), activations=mode, backend=backend)


@pytest.mark.parametrize("mode", ["f32", "q8"])
def test_matmul_converts_float64_and_strided_x(tensor, backend, mode):
    rng = np.random.default_rng(3)
    x = rng.standard_normal((5, COLS)).astype(np.float32)
    want = tensor.matmul(x, activations=mode, backend=backend)
    assert want.shape == (5, ROWS) and want.dtype == np.float32
    wide = np.zeros((5, 2 * COLS), np.float32)
    wide[:, ::2] = x
    strided = {"column stride 2": wide[:, ::2], "row stride 2": np.repeat(x, 2, axis=0)[::2],
               "Fortran order": np.asfortranarray(x)}
    assert not any(v.flags.c_contiguous for v in strided.values())
    for name, xv in {"float64": x.astype(np.float64), "python lists": x.tolist(), **strided}.items():
        got = tensor.matmul(xv, activations=mode, backend=backend)
        np.testing.assert_array_equal(got, want, err_msg=name)
    reversed_rows = tensor.matmul(x[::-1], activations=mode, backend=backend)   # negative stride
    np.testing.assert_array_equal(reversed_rows, want[::-1])
    one = tensor.matmul(wide[2, ::2], activations=mode, backend=backend)   # strided 1-D
    np.testing.assert_array_equal(one, tensor.matmul(x[2].copy(), activations=mode, backend=backend))
    # one column vs five: the q8 GEMM tile sums in another order than the GEMV kernel (results
    # are bitwise independent of the thread count, not of the batch size)
    np.testing.assert_allclose(one, want[2], rtol=0, atol=1e-6 * np.abs(want[2]).max())
    assert tensor.matmul(np.zeros((0, COLS)), activations=mode, backend=backend).shape == (0, ROWS)


# --- get_rows -------------------------------------------------------------------------------------
@pytest.mark.parametrize("ids, bad", [
    ([ROWS], ROWS), ([-1], -1), ([0, 3, ROWS + 5], ROWS + 5), (np.array([-(2**63)]), -(2**63)),
    (np.array([2**63 + 1], np.uint64), 2**63 + 1), ([2**70], 2**70), (ROWS, ROWS)])
def test_get_rows_out_of_range(tensor, backend, ids, bad):
    with pytest.raises(IndexError, match=rf"row id {bad} out of range for a tensor of {ROWS} rows"):
        tensor.get_rows(ids, backend=backend)


@pytest.mark.parametrize("ids, error", [([1.5], TypeError), ([True], TypeError), (["1"], TypeError),
                                        ([[0, 1]], ValueError)])
def test_get_rows_bad_id_types(tensor, backend, ids, error):
    with pytest.raises(error, match="row ids must be"):
        tensor.get_rows(ids, backend=backend)


def test_get_rows_valid_edges(tensor, backend):
    full = tensor.dequantize(backend=backend)
    np.testing.assert_array_equal(tensor.get_rows([ROWS - 1, 0, 0], backend=backend), full[[ROWS - 1, 0, 0]])
    np.testing.assert_array_equal(tensor.get_rows(np.array([1, 2], np.uint8), backend=backend), full[[1, 2]])
    assert tensor.get_rows([], backend=backend).shape == (0, COLS)


# --- from_bytes / dequantize ----------------------------------------------------------------------
@pytest.mark.parametrize("qtype", TYPES)
def test_from_bytes_data_shorter_or_longer_than_the_shape(qtype, backend):
    qt = QTYPES[qtype]
    raw = random_blocks(qt, ROWS, COLS).tobytes()
    need = ROWS * qt.row_bytes(COLS)
    for data in (raw[:-1], raw[:need // 2], b"", raw + b"\0"):
        with pytest.raises(ValueError, match=rf"needs {need} bytes .* got {len(data)}"):
            fusedq.QuantizedTensor.from_bytes(data, qtype, (ROWS, COLS))
    t = fusedq.QuantizedTensor.from_bytes(raw, qtype, (ROWS, COLS))
    assert t.dequantize(backend=backend).shape == (ROWS, COLS)


@pytest.mark.parametrize("qtype", ["Q4_K", "Q8_0", "Q4_0", "IQ4_XS"])
def test_from_bytes_bad_column_count(qtype):
    qt = QTYPES[qtype]
    for cols in (qt.block_size - 1, qt.block_size + 1, qt.block_size * 3 // 2):
        with pytest.raises(ValueError, match=rf"last dimension \({cols}\) must be a multiple of {qt.block_size}"):
            fusedq.QuantizedTensor.from_bytes(bytes(qt.type_size * 4), qtype, (2, cols))


@pytest.mark.parametrize("spec, error", [("Q4_Z", ValueError), ("", ValueError), ("Q8_1", ValueError),
                                         (999, ValueError), (16, ValueError), (4.0, TypeError),
                                         (None, TypeError), (True, TypeError)])
def test_from_bytes_unknown_type(spec, error):
    with pytest.raises(error, match="type"):
        fusedq.QuantizedTensor.from_bytes(bytes(34), spec, (1, 32))


@pytest.mark.parametrize("shape, error", [((0, 32), ValueError), ((-1, 32), ValueError), ((1, 1, 1, 1, 32), ValueError),
                                          ((), ValueError), ((1.0, 32), TypeError), ("32", TypeError)])
def test_from_bytes_bad_shape(shape, error):
    with pytest.raises(error, match="shape"):
        fusedq.QuantizedTensor.from_bytes(bytes(34), "Q8_0", shape)


def test_from_bytes_shape_product_beyond_int64_is_not_wrapped():
    """rows = 274177 * 67280421310721 = 2^64 + 1: an int64 product would wrap to 1 and match 1 row."""
    assert 274177 * 67280421310721 == 2**64 + 1
    with pytest.raises(ValueError, match="needs"):
        fusedq.QuantizedTensor.from_bytes(bytes(34), "Q8_0", (274177, 67280421310721, 32))


def test_from_bytes_bad_data_objects():
    with pytest.raises(TypeError, match="bytes-like"):
        fusedq.QuantizedTensor.from_bytes([0] * 34, "Q8_0", (1, 32))
    strided = np.zeros(68, np.uint8)[::2]
    with pytest.raises(ValueError, match="C-contiguous"):
        fusedq.QuantizedTensor.from_bytes(strided, "Q8_0", (1, 32))


def test_unknown_backend_name(tensor):
    with pytest.raises(ValueError, match="unknown backend 'fast'"):
        tensor.dequantize(backend="fast")


# --- quantize -------------------------------------------------------------------------------------
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("qtype", ["Q4_K", "Q8_0", "F16"])
def test_quantize_rejects_non_finite(qtype, bad):
    w = np.ones((2, 256), np.float32)
    w[1, 17] = bad
    with pytest.raises(ValueError, match="NaN or Inf"):
        fusedq.quantize(w, qtype)


@pytest.mark.parametrize("shape", [(256,), (1, 2, 256), ()])
def test_quantize_rejects_wrong_rank(shape):
    with pytest.raises(ValueError, match="2-D"):
        fusedq.quantize(np.ones(shape, np.float32), "Q8_0")


@pytest.mark.parametrize("qtype, cols", [("Q4_K", 128), ("Q8_0", 48), ("Q4_0", 33)])
def test_quantize_rejects_bad_column_count(qtype, cols):
    with pytest.raises(ValueError, match=rf"multiple of {QTYPES[qtype].block_size}"):
        fusedq.quantize(np.ones((2, cols), np.float32), qtype)


def test_quantize_rejects_unknown_type_and_non_numbers():
    with pytest.raises(ValueError, match="unknown tensor type"):
        fusedq.quantize(np.ones((2, 32), np.float32), "Q3_Z")
    with pytest.raises(TypeError, match="real num"):
        fusedq.quantize(np.full((2, 32), "a"), "Q8_0")


# --- load_gguf ------------------------------------------------------------------------------------
def test_load_gguf_missing_directory_empty_and_foreign(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such GGUF file"):
        fusedq.load_gguf(tmp_path / "missing.gguf")
    with pytest.raises(IsADirectoryError, match="is a directory"):
        fusedq.load_gguf(tmp_path)
    empty = tmp_path / "empty.gguf"
    empty.write_bytes(b"")
    with pytest.raises(fusedq.GGUFError, match="empty file") as info:
        fusedq.load_gguf(empty)
    assert info.value.rule == "empty file"
    for name, content, rule in [("notes.txt", b"hello, I am not a model\n", "bad magic"),
                                ("model.safetensors", b"\x08\x00\x00\x00\x00\x00\x00\x00{}      ", "bad magic"),
                                ("short.gguf", b"GGU", "truncated"), ("magic-only.gguf", b"GGUF", "truncated")]:
        path = tmp_path / name
        path.write_bytes(content)
        with pytest.raises(fusedq.GGUFError, match=rule) as info:
            fusedq.load_gguf(path)
        assert info.value.rule == rule and str(path) in str(info.value)
    with pytest.raises(TypeError):
        fusedq.load_gguf(None)


def test_load_gguf_refuses_special_files_without_blocking(tmp_path):
    """A FIFO would block open() forever and /dev/zero has no size: both are refused up front."""
    fifo = tmp_path / "pipe.gguf"
    os.mkfifo(fifo)
    code = textwrap.dedent(f"""
        import fusedq
        for path in ({str(fifo)!r}, "/dev/zero", "/dev/null"):
            try:
                fusedq.load_gguf(path)
            except fusedq.GGUFError as exc:
                assert exc.rule == "not a regular file", exc
            else:
                raise SystemExit(path + " was accepted")
        print("ok")
        """)
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                         cwd=root)
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr


def test_architecture_missing_is_a_gguf_error(tmp_path):
    from gguf_builder import KV, U32, Spec, build
    path = tmp_path / "noarch.gguf"
    path.write_bytes(build(Spec([KV.scalar("general.alignment", U32, 32)], [])).data)
    g = fusedq.load_gguf(path)
    assert g.tensors == {} and math.isclose(g.alignment, 32)
    with pytest.raises(fusedq.GGUFError, match="general.architecture"):
        g.architecture
