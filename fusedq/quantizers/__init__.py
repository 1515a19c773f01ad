"""Quantizers for every type of the traits table, one module per family, one table (table.py).

floats.py: F32 / F16 / BF16; legacy.py: Q4_0 / Q4_1 / Q5_0 / Q5_1 / Q8_0; kquants.py: Q2_K to
Q6_K; iq4.py: IQ4_NL / IQ4_XS; fits.py: the weighted scale (and min) searches; packing.py: bit
packing; driver.py: chunked, threaded application to a whole matrix.
"""
from . import floats, iq4, kquants, legacy  # noqa: F401  (importing registers the quantizers)
from .driver import quantize_matrix
from .table import QUANTIZERS, register

__all__ = ["QUANTIZERS", "register", "quantize_matrix"]
