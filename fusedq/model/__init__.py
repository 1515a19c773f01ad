"""The model runner: GGUF config and weights, the forward pass, KV cache, sampler, Model."""
from .model import GenerationStats, Model

__all__ = ["Model", "GenerationStats"]
