"""Measurement code shared by `fusedq bench` and benchmarks/ (no pytest dependency).

inputs.py: random valid blocks, activations, real tensors; kernels.py: timing, accuracy and memory
of x @ W.T by each method and the demo's table; ggml_peer.py: ggml's own mul_mat via ctypes;
e2e.py / e2e_worker.py: fusedq vs llama.cpp end to end, one fresh process per engine run.
"""
