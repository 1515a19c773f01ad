"""The benchmark plumbing the `fusedq bench` command and benchmarks/ rely on: the ggml peer
computes the same product as fusedq's q8 reference, and the measurement table is complete."""
from __future__ import annotations

import numpy as np
import pytest

from fusedq.benchmarking import ggml_peer, inputs, kernels
from fusedq.cli import main as cli_main
from fusedq.types import QTYPES


@pytest.mark.parametrize("name", list(QTYPES))
def test_ggml_peer_matches_the_q8_reference(name):
    ok, why = ggml_peer.ggml_available()
    if not ok:
        pytest.skip(why)
    qt = QTYPES[name]
    t = inputs.random_tensor(name, 64, 512, seed=3)
    x = inputs.activations(3, 512, seed=4)
    ref = t.matmul(x, "q8", backend="numpy")
    with ggml_peer.llama_cpp_matmul(t.data, qt.gguf_id, t.rows, t.cols, 3, n_threads=1) as peer:
        y = peer(x)
    # ggml keeps Q8_0/Q8_1 activation scales in f16 and converts x to f16/bf16 for float weights
    tol = 3e-3 if qt.name == "BF16" else 1e-3
    assert np.linalg.norm(y - ref) / np.linalg.norm(ref) < tol


def test_measure_case_fills_every_column():
    t = inputs.random_tensor("Q4_K", 32, 256)
    x = inputs.activations(2, 256)
    methods = [kernels.Method("naive"), kernels.Method("backend", "numpy", "f32"),
               kernels.Method("backend", "numpy", "q8")]
    results = kernels.measure_case("small", t, x, methods, budget_s=0.05, threads=1)
    assert [r.method for r in results] == methods
    for r in results:
        assert r.times and r.median_s > 0 and r.weight_bytes == t.nbytes
    naive, exact_f32, q8 = results
    assert naive.max_abs_delta < 1e-3 and exact_f32.max_abs_delta < 1e-4
    assert 0 < q8.nmse < 5e-4          # 8-bit activations: small but nonzero error
    assert naive.peak_extra >= 32 * 256 * 4   # the naive path holds a float32 copy of W
    table = kernels.format_table(results)
    assert "naive" in table and "numpy q8" in table and "speed-up" in table


def test_bench_command_prints_the_table(capsys):
    assert cli_main(["bench", "--type", "Q8_0", "--shape", "16x64", "--backends", "numpy",
                     "--no-ggml", "--seconds", "0.05", "--threads", "1"]) == 0
    out = capsys.readouterr().out
    assert "Q8_0 16x64" in out and "numpy f32" in out and "naive" in out


def test_bench_command_rejects_a_bad_shape(capsys):
    assert cli_main(["bench", "--shape", "12by5", "--no-ggml"]) == 2
    assert "--shape" in capsys.readouterr().err


def test_bench_command_names_a_missing_tensor(capsys, gemma_path):
    assert cli_main(["bench", "--tensor", "no.such.weight", "--no-ggml"]) == 2
    assert "no.such.weight" in capsys.readouterr().err


def _round(fq_rate, lc_rate, fq_ready=1.0, lc_ready=2.0):
    def res(engine, rate, ready):
        return {"engine": engine, "threads": 2, "tests": {"tg8": [rate]}, "ready_s": ready,
                "peak_rss_mb": 100.0}
    return {"fusedq": res("fusedq", fq_rate, fq_ready), "llama.cpp": res("llama.cpp", lc_rate, lc_ready)}


def test_e2e_ratio_is_the_median_of_per_round_ratios(tmp_path):
    from fusedq.benchmarking import e2e
    comp = e2e.Comparison("m", str(tmp_path / "m.gguf"))
    comp.rounds = [_round(10, 5), _round(30, 10), _round(8, 8)]   # ratios 2, 3, 1
    comp.rounds.append({"fusedq": {"engine": "fusedq", "error": "boom"}, "llama.cpp": _round(1, 1)["llama.cpp"]})
    assert comp.ratio("tg8") == 2.0
    assert comp.ratio(None, "ready_s") == 0.5
    assert comp.rates("fusedq", "tg8") == [10, 30, 8]
    table = e2e.format_table([comp], ["tg8"])
    assert "| m |" in table and "2.00x" in table and "m, fusedq: not measured (boom)" in table


def test_e2e_worker_runs_llama_cpp_on_a_synthetic_model(tmp_path):
    pytest.importorskip("llama_cpp")
    from fusedq import synth
    from fusedq.benchmarking import e2e
    path = tmp_path / "tiny.gguf"
    synth.write_synthetic(path, like="tiny")
    res = e2e.run_worker("llama.cpp", path, ["pp16", "tg4"], threads=1, n_ctx=64)
    assert "error" not in res, res.get("error")
    assert res["tests"]["pp16"][0] > 0 and res["tests"]["tg4"][0] > 0
    assert res["peak_rss_mb"] >= res["rss_after_load_mb"] > res["base_rss_mb"] > 0
