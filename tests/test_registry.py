"""Backend registry: env var resolution, explicit choices, overrides and their restoration."""
import os
import subprocess
import sys
import textwrap

import pytest

import fusedq
from fusedq import registry


def run_python(code: str, **env: str) -> subprocess.CompletedProcess:
    full_env = {k: v for k, v in os.environ.items() if k not in ("FUSEDQ_BACKEND", "FUSEDQ_NUM_THREADS")}
    full_env.update(env)
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True,
                          text=True, env=full_env, cwd=os.getcwd(), timeout=120)


def test_numpy_is_always_available_and_listed_last():
    names = fusedq.available_backends()
    assert names[-1] == "numpy"
    order = list(registry._MODULES)
    assert names == [n for n in order if n in names]


def test_env_var_selects_backend():
    out = run_python("import fusedq; print(fusedq.get_backend())", FUSEDQ_BACKEND="numpy")
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "numpy"


def test_env_var_auto_takes_best_available():
    out = run_python("import fusedq; print(fusedq.get_backend(), fusedq.available_backends()[0])",
                     FUSEDQ_BACKEND="auto")
    chosen, best = out.stdout.split()
    assert chosen == best


def test_bad_env_value_does_not_break_import_but_fails_on_use():
    out = run_python("""
        import fusedq, numpy as np
        print("imported")
        try:
            fusedq.get_backend()
        except ValueError as exc:
            print("ValueError:", exc)
        """, FUSEDQ_BACKEND="cuda")
    assert out.returncode == 0, out.stderr
    assert "imported" in out.stdout
    assert "ValueError: unknown backend 'cuda'" in out.stdout
    for name in ("simd", "scalar", "numpy", "auto"):
        assert name in out.stdout


def test_env_thread_count():
    out = run_python("import fusedq; print(fusedq.get_num_threads())", FUSEDQ_NUM_THREADS="3")
    assert out.stdout.strip() == "3"


def test_set_backend_bad_name_lists_valid_names():
    with pytest.raises(ValueError, match="valid: simd, scalar, numpy, auto"):
        fusedq.set_backend("gpu")
    with pytest.raises(TypeError):
        fusedq.set_backend(3)


def test_unavailable_backend_raises_with_reason():
    missing = [n for n, s in registry.backend_status().items() if s != "available"]
    if not missing:
        pytest.skip("every backend is available on this machine")
    with pytest.raises(fusedq.BackendUnavailable, match=missing[0]):
        fusedq.set_backend(missing[0])


def test_use_backend_overrides_and_restores():
    before = fusedq.get_backend()
    with fusedq.use_backend("numpy") as name:
        assert name == "numpy" == fusedq.get_backend()
    assert fusedq.get_backend() == before
    with pytest.raises(RuntimeError):
        with fusedq.use_backend("numpy"):
            raise RuntimeError("boom")
    assert fusedq.get_backend() == before


def test_set_backend_changes_default():
    before = fusedq.get_backend()
    try:
        fusedq.set_backend("numpy")
        assert fusedq.get_backend() == "numpy"
    finally:
        fusedq.set_backend(before)


def test_thread_setting_validates():
    before = fusedq.get_num_threads()
    try:
        fusedq.set_num_threads(1)
        assert fusedq.get_num_threads() == 1
        with pytest.raises(ValueError):
            fusedq.set_num_threads(0)
        with pytest.raises(TypeError):
            fusedq.set_num_threads(1.5)
    finally:
        fusedq.set_num_threads(before)


def test_show_config_mentions_backend_and_threads():
    text = fusedq.show_config()
    assert f"backend: {fusedq.get_backend()}" in text
    assert f"threads: {fusedq.get_num_threads()}" in text


@pytest.mark.parametrize("given, expected", [
    ({}, "30000"),                                   # fusedq's default for shared machines
    ({"GOMP_SPINCOUNT": "5"}, "5"),                  # the user's choice stands
    ({"OMP_WAIT_POLICY": "active"}, None),           # so does a wait policy
])
def test_openmp_wait_default_is_set_before_libgomp_loads(given, expected):
    code = """
        import os, fusedq
        fusedq.QuantizedTensor  # noqa
        print(os.environ.get("GOMP_SPINCOUNT"))
    """
    env = {k: v for k, v in os.environ.items() if k not in ("GOMP_SPINCOUNT", "OMP_WAIT_POLICY")}
    env.update(given)
    out = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True,
                         text=True, env=env, cwd=os.getcwd(), timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == str(expected)
