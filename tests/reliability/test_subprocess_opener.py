"""The hostile-file harness itself: it must notice crashes, hangs and the address-space limit."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

from subprocess_opener import WORKER, _worker_env, open_files

FAKE_WORKER = textwrap.dedent("""
    import os, signal, sys, time, json
    paths = open(sys.argv[1]).read().split("\\n")
    for i, p in enumerate(paths):
        print(f"START {i}", flush=True)
        if "crash" in p:
            os.kill(os.getpid(), signal.SIGSEGV)
        if "hang" in p:
            time.sleep(60)
        if "exit" in p:
            sys.exit(3)
        print("RESULT " + json.dumps({"status": "rejected", "name": p}), flush=True)
    """)


def test_opener_survives_crashes_and_hangs(tmp_path):
    worker = tmp_path / "fake_worker.py"
    worker.write_text(FAKE_WORKER)
    names = ["a", "crash1", "b", "hang1", "c", "exit1", "d", "e"]
    results = open_files(names, per_file_timeout=2.0, workers=1, worker=str(worker))
    statuses = [r["status"] for r in results]
    assert statuses == ["rejected", "signal", "rejected", "hang", "rejected", "died", "rejected", "rejected"]
    assert [r.get("name") for r in results if r["status"] == "rejected"] == ["a", "b", "c", "d", "e"]
    assert results[1]["returncode"] < 0 and results[5]["returncode"] == 3


@pytest.mark.skipif("asan" in os.environ.get("LD_PRELOAD", ""), reason="ASan needs unlimited address space")
def test_worker_runs_under_address_space_limit():
    out = subprocess.run([sys.executable, WORKER, "--limits"], capture_output=True, text=True,
                         env=_worker_env(), timeout=120)
    assert out.returncode == 0, out.stderr
    info = json.loads(out.stdout)
    assert 0 < info["RLIMIT_AS"] <= 2 << 30
    assert "numpy" in info["backends"]
