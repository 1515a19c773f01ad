"""Test helpers shared by every test directory: random valid blocks of any type.

Imported by name (`from blocks_util import ...`); conftest.py files are not importable helpers
because each test directory may have its own.
"""
from __future__ import annotations

from fusedq.benchmarking.inputs import random_blocks, random_tensor  # noqa: F401 (shared with benchmarks)
from fusedq.types import QTYPES


ALL_TYPES = list(QTYPES)
