"""Code shared by the compiled backends (C headers, the Cython layer, the Backend wrapper)."""
