"""Shared fixtures: the real models. Block helpers live in blocks_util.py."""
from __future__ import annotations

import pytest

from fusedq.model_files import default_model_path, smollm2_path


@pytest.fixture(scope="session")
def gemma_path():
    return default_model_path()


@pytest.fixture(scope="session")
def smollm_path():
    return smollm2_path()
