"""fusedq: fused dequantize-and-multiply kernels for GGUF-quantized weights, and a model runner."""
from . import threads as _threads  # first: sets OpenMP's wait default before libgomp loads
from .config import show_config
from .gguf_file import GGUFError, GGUFFile, load_gguf
from .quantize import quantize
from .registry import (BackendUnavailable, available_backends, get_backend, set_backend,
                       use_backend)
from .tensor import QuantizedTensor
from .model import Model
from .threads import get_num_threads, set_num_threads
from .types import QTYPES, QType

__version__ = "0.1.0"

__all__ = [
    "QuantizedTensor", "Model", "quantize", "load_gguf", "GGUFFile", "GGUFError",
    "available_backends", "get_backend", "set_backend", "use_backend", "BackendUnavailable",
    "set_num_threads", "get_num_threads", "show_config", "QTYPES", "QType",
]
