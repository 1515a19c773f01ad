# The scalar backend's compiled module: the shared Cython layer over the portable C table.
include "backend_api.pxi"
