"""Subprocess side of the hostile-file tests: open each listed GGUF file under an address-space limit.

Usage: python open_worker.py LIST_FILE   (one path per line). For each file it prints
`START <index>` before touching it and `RESULT <json>` after, so the parent can tell which file a
crash or hang happened on. Every tensor of an accepted file is read with every available backend
(dequantize, get_rows, matmul in both activation modes) and the file is re-checked by gguf_oracle.
With FUSEDQ_TEST_OPEN=model each file is loaded as a fusedq.Model instead and run once.
"""
from __future__ import annotations

import hashlib
import json
import os
import resource
import sys
import warnings

import numpy as np

import fusedq
import gguf_oracle

ADDRESS_LIMIT_MB = int(os.environ.get("FUSEDQ_TEST_AS_LIMIT_MB", "1536"))


def _limit_address_space() -> None:
    # AddressSanitizer reserves terabytes of shadow memory, so no limit can apply under it.
    if ADDRESS_LIMIT_MB > 0 and "asan" not in os.environ.get("LD_PRELOAD", ""):
        limit = ADDRESS_LIMIT_MB << 20
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def _jsonable(value):
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, float) and value != value:
        return "NaN"
    return value


def read_everything(g, backends: list[str]) -> dict:
    """Touch every byte of every tensor through every backend; return a digest of the tensors."""
    summary = {}
    for name, t in g.tensors.items():
        x = np.linspace(-1.0, 1.0, t.cols, dtype=np.float32)
        for backend in backends:
            w = t.dequantize(backend=backend)
            assert w.shape == t.shape and w.dtype == np.float32, (name, backend, w.shape)
            rows = t.get_rows([0, t.rows - 1], backend=backend)
            assert rows.shape == (2, t.cols)
            for mode in ("f32", "q8"):
                y = t.matmul(x, activations=mode, backend=backend)
                assert y.shape == (t.rows,), (name, backend, mode, y.shape)
        summary[name] = [t.qtype, list(t.shape), hashlib.sha1(t.data.tobytes()).hexdigest()]
    return summary


def open_one(path: str, backends: list[str]) -> dict:
    try:
        g = fusedq.load_gguf(path)
    except fusedq.GGUFError as exc:
        return {"status": "rejected", "rule": exc.rule, "field": exc.field, "offset": exc.offset,
                "message": str(exc)}
    except MemoryError:
        return {"status": "memory error"}
    except Exception as exc:  # noqa: BLE001 - any other exception type is a test failure to report
        return {"status": "wrong exception", "message": f"{type(exc).__name__}: {exc}"}
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            tensors = read_everything(g, backends)
    except MemoryError:
        return {"status": "memory error while reading"}
    except Exception as exc:  # noqa: BLE001
        return {"status": "read failed", "message": f"{type(exc).__name__}: {exc}"}
    try:
        oracle = gguf_oracle.violations(path, g)
    except Exception as exc:  # noqa: BLE001 - a broken oracle must not look like a crash of fusedq
        oracle = [f"the oracle itself failed: {type(exc).__name__}: {exc}"]
    return {"status": "accepted", "tensors": tensors,
            "metadata": {k: _jsonable(v) for k, v in g.metadata.items()}, "oracle": oracle}


def open_model(path: str) -> dict:
    """FUSEDQ_TEST_OPEN=model: load as a runnable model (hyperparameters checked), then run it."""
    from model_helpers import ByteTokenizer
    try:
        model = fusedq.Model.load(path, n_ctx=64, backend="numpy", tokenizer=ByteTokenizer())
    except MemoryError:
        return {"status": "memory error"}
    except ValueError as exc:
        return {"status": "rejected", "rule": type(exc).__name__, "message": str(exc)}
    except Exception as exc:  # noqa: BLE001
        return {"status": "wrong exception", "message": f"{type(exc).__name__}: {exc}"}
    try:
        logits = model.logits([256, 72, 105])
        assert logits.shape == (model.config.n_vocab,) and np.isfinite(logits).all()
    except Exception as exc:  # noqa: BLE001
        return {"status": "read failed", "message": f"{type(exc).__name__}: {exc}"}
    return {"status": "accepted", "oracle": []}


def main() -> None:
    backends = fusedq.available_backends()
    _limit_address_space()
    if sys.argv[1] == "--limits":   # for the harness self-test
        print(json.dumps({"RLIMIT_AS": resource.getrlimit(resource.RLIMIT_AS)[0], "backends": backends}))
        return
    with open(sys.argv[1]) as f:
        paths = [line.rstrip("\n") for line in f if line.strip()]
    as_model = os.environ.get("FUSEDQ_TEST_OPEN") == "model"
    for i, path in enumerate(paths):
        print(f"START {i}", flush=True)
        result = open_model(path) if as_model else open_one(path, backends)
        print("RESULT " + json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
