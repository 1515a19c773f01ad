"""Fixtures of the model-runner tests (helpers live in model_helpers.py)."""
import pytest
from model_helpers import TINY_MODELS, write_tiny_model


@pytest.fixture(scope="session")
def tiny_models(tmp_path_factory):
    root = tmp_path_factory.mktemp("tiny_models")
    return {kind: write_tiny_model(root / f"{kind}.gguf", kind) for kind in TINY_MODELS}
