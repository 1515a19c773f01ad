"""Kernel backends: numpy_ref (the reference), scalar (portable C), simd (AVX2/FMA C).

Each sub-package exposes `load() -> Backend` (see fusedq.registry) and nothing else public.
"""
