"""Shared fixtures: the real models, random valid blocks of any type, backend lists."""
from __future__ import annotations

import numpy as np
import pytest

import fusedq
from fusedq.model_files import default_model_path, smollm2_path
from fusedq.benchmarking.inputs import random_blocks, random_tensor  # noqa: F401 (shared helpers)
from fusedq.types import QTYPES, QType  # noqa: F401


@pytest.fixture(scope="session")
def gemma_path():
    return default_model_path()


@pytest.fixture(scope="session")
def smollm_path():
    return smollm2_path()


ALL_TYPES = list(QTYPES)
