# The compiled engine's Python face: checks a model description built by compiled_transformer.py
# (every pointer, shape and size), fills the C structs once, and runs fq_engine_forward without
# the GIL after checking the call's arguments (token ids, positions, thread count).
from libc.stdint cimport int32_t, int64_t, uint8_t, uintptr_t
from libc.stdlib cimport calloc, free
from cpython.pycapsule cimport PyCapsule_GetPointer, PyCapsule_IsValid

import numpy as np

cdef extern from "kernel_table.h" nogil:
    ctypedef struct fq_kernels:
        int type_id
        const char *name
        int block_size
        int type_size
        int partner
        void *dequant
        void *dot_f32
        void *dot_q8
        int f32_sums

cdef extern from "act_quant.h" nogil:
    ctypedef struct fq_act_format:
        const char *name
        int block
        int block_bytes

cdef extern from "kernel_api.h" nogil:
    int FQ_KERNEL_API_VERSION
    ctypedef struct fq_kernel_api:
        int version
        int struct_size
        int kernels_size
        const fq_kernels *(*lookup)(int type_id)
        const fq_act_format *act_formats
        int n_act_formats
        void *row_tile

cdef extern from "engine.h" nogil:
    int FQ_BF16X3_COLS
    int FQ_BF16X3_SCRATCH
    int FQ_ACT_F32
    int FQ_QUERY_BLOCK
    int FQ_XSUM_GROUP
    int FQ_ACT_COUNT
    int FQ_GATE_SILU
    int FQ_GATE_GELU_TANH
    ctypedef struct fq_linear:
        const fq_kernels *k
        const uint8_t *w
        int64_t rows, cols, row_bytes
        int partner
    ctypedef struct fq_layer:
        fq_linear wq, wk, wv, wo, gate, up, down
        const float *attn_norm
        const float *ffn_norm
        const float *q_norm
        const float *k_norm
        const float *attn_post_norm
        const float *ffn_post_norm
        const float *rope_q
        const float *rope_k
        float *k_cache
        float *v_cache
        int64_t capacity, window
    ctypedef struct fq_scratch:
        float *x
        float *h
        float *q
        float *k
        float *v
        float *att
        float *o
        float *g
        float *u
        float *xs
        float *xw
        uint8_t *xb[2]
        float *xb_scale[2]
        uint8_t *amx
        float *scores
        int64_t score_len
        int max_threads
        uint8_t *xq[4]
        int64_t xq_row_bytes
        float *logits
    ctypedef struct fq_model:
        int64_t n_vocab, n_embd, n_layer, n_ff, n_head, n_head_kv, head_dim, n_rot, n_ctx, n_batch
        float rms_eps, embed_scale, q_tail_scale, logit_softcap
        int gate_act
        const int32_t *perm
        fq_linear embd, output
        const float *output_norm
        const fq_layer *layers
        const fq_act_format *act_formats
        void *row_tile
    void fq_engine_init()
    void fq_engine_forward(const fq_model *m, fq_scratch *s, const int64_t *ids, int64_t n,
                           int64_t pos0, int half, int nthreads)
    float fq_round_f16(float x)

GATES = {"silu": FQ_GATE_SILU, "gelu_tanh": FQ_GATE_GELU_TANH}


cdef const fq_kernel_api *_api_from(capsule) except NULL:
    if not PyCapsule_IsValid(capsule, b"fusedq.kernel_api"):
        raise TypeError("expected the PyCapsule of a compiled backend's kernel_api()")
    cdef const fq_kernel_api *api = <const fq_kernel_api *>PyCapsule_GetPointer(capsule, b"fusedq.kernel_api")
    if (api.version != FQ_KERNEL_API_VERSION or api.struct_size != sizeof(fq_kernel_api)
            or api.kernels_size != sizeof(fq_kernels) or api.n_act_formats != FQ_ACT_COUNT):
        raise ImportError("the backend and the model engine were built from different sources; "
                          "rebuild with `python setup.py build_ext --inplace`")
    return api


cdef const float *_vector(keep, obj, int64_t size, str what) except NULL:
    arr = np.ascontiguousarray(obj, dtype=np.float32)
    if arr.shape != (size,):
        raise ValueError(f"{what}: expected {size} float32 values, got shape {arr.shape}")
    keep.append(arr)
    cdef const float[::1] v = arr
    return &v[0]


cdef const float *_optional_vector(keep, obj, int64_t size, str what) except? NULL:
    if obj is None:
        return NULL
    return _vector(keep, obj, size, what)


cdef class Engine:
    """One model's compiled forward. spec: see compiled_transformer.engine_spec."""

    cdef fq_model m
    cdef fq_scratch s
    cdef fq_layer *layers
    cdef const fq_kernel_api *api
    cdef list _keep
    cdef object _capsule
    cdef object _scores
    cdef object _amx
    cdef object _logits
    cdef int64_t _max_cap
    cdef readonly int64_t n_batch, n_ctx, n_vocab

    def __cinit__(self):
        self.layers = NULL

    def __dealloc__(self):
        free(self.layers)

    def __init__(self, capsule, dict spec, int max_threads=2):
        fq_engine_init()
        self.api = _api_from(capsule)
        self._capsule = capsule
        self._keep = []
        c = spec
        cdef fq_model *m = &self.m
        m.n_vocab, m.n_embd, m.n_layer = c["n_vocab"], c["n_embd"], c["n_layer"]
        m.n_ff, m.n_head, m.n_head_kv = c["n_ff"], c["n_head"], c["n_head_kv"]
        m.head_dim, m.n_rot, m.n_ctx, m.n_batch = c["head_dim"], c["n_rot"], c["n_ctx"], c["n_batch"]
        if min(m.n_vocab, m.n_embd, m.n_layer, m.n_ff, m.n_head, m.n_head_kv, m.head_dim, m.n_ctx,
               m.n_batch) < 1 or m.n_head % m.n_head_kv or m.n_rot % 2 or not 0 <= m.n_rot <= m.head_dim:
            raise ValueError(f"inconsistent model sizes: {c}")
        m.rms_eps, m.embed_scale = c["rms_eps"], c["embed_scale"]
        m.q_tail_scale, m.logit_softcap = c["q_tail_scale"], c["logit_softcap"]
        if c["gate"] not in GATES:
            raise ValueError(f"gate activation {c['gate']!r} is not one of {sorted(GATES)}")
        m.gate_act = GATES[c["gate"]]
        m.act_formats = self.api.act_formats
        m.row_tile = self.api.row_tile
        self.n_batch, self.n_ctx, self.n_vocab = m.n_batch, m.n_ctx, m.n_vocab
        cdef int64_t d = m.n_embd, hd = m.head_dim, nh = m.n_head, nkv = m.n_head_kv, ff = m.n_ff
        cdef const int32_t[::1] perm
        m.perm = NULL
        if c["perm"] is not None:
            parr = np.ascontiguousarray(c["perm"], dtype=np.int32)
            if parr.shape != (hd,) or sorted(parr.tolist()) != list(range(hd)):
                raise ValueError("perm must be a permutation of range(head_dim)")
            self._keep.append(parr)
            perm = parr
            m.perm = &perm[0]

        xq_bytes = [0] * FQ_ACT_COUNT
        self._linear(&m.embd, c["embd"], m.n_vocab, d, xq_bytes, "token_embd", need_dot=False)
        self._linear(&m.output, c["output"], m.n_vocab, d, xq_bytes, "output")
        m.output_norm = _vector(self._keep, c["output_norm"], d, "output_norm")

        if len(c["layers"]) != m.n_layer:
            raise ValueError(f"{len(c['layers'])} layer specs for {m.n_layer} layers")
        self.layers = <fq_layer *>calloc(m.n_layer, sizeof(fq_layer))
        if self.layers == NULL:
            raise MemoryError()
        m.layers = self.layers
        cdef fq_layer *L
        cdef float[:, :, ::1] kc, vc
        cdef const float[:, ::1] rope
        self._max_cap = 0
        for il, ls in enumerate(c["layers"]):
            L = &self.layers[il]
            self._linear(&L.wq, ls["wq"], nh * hd, d, xq_bytes, f"blk.{il}.attn_q")
            self._linear(&L.wk, ls["wk"], nkv * hd, d, xq_bytes, f"blk.{il}.attn_k")
            self._linear(&L.wv, ls["wv"], nkv * hd, d, xq_bytes, f"blk.{il}.attn_v")
            self._linear(&L.wo, ls["wo"], d, nh * hd, xq_bytes, f"blk.{il}.attn_output")
            self._linear(&L.gate, ls["gate"], ff, d, xq_bytes, f"blk.{il}.ffn_gate")
            self._linear(&L.up, ls["up"], ff, d, xq_bytes, f"blk.{il}.ffn_up")
            self._linear(&L.down, ls["down"], d, ff, xq_bytes, f"blk.{il}.ffn_down")
            L.attn_norm = _vector(self._keep, ls["attn_norm"], d, f"blk.{il}.attn_norm")
            L.ffn_norm = _vector(self._keep, ls["ffn_norm"], d, f"blk.{il}.ffn_norm")
            L.q_norm = _optional_vector(self._keep, ls["q_norm"], hd, f"blk.{il}.q_norm")
            L.k_norm = _optional_vector(self._keep, ls["k_norm"], hd, f"blk.{il}.k_norm")
            if (L.q_norm == NULL) != (L.k_norm == NULL):
                raise ValueError(f"blk.{il}: q_norm and k_norm come together")
            L.attn_post_norm = _optional_vector(self._keep, ls["attn_post_norm"], d, f"blk.{il}.attn_post_norm")
            L.ffn_post_norm = _optional_vector(self._keep, ls["ffn_post_norm"], d, f"blk.{il}.ffn_post_norm")
            for which in ("rope_q", "rope_k"):
                arr = ls[which]
                if (arr.dtype != np.float32 or arr.shape != (m.n_ctx, m.n_rot)
                        or not arr.flags.c_contiguous):
                    raise ValueError(f"blk.{il}.{which}: expected float32 [{m.n_ctx}, {m.n_rot}] C-contiguous")
                self._keep.append(arr)
                rope = arr
                if which == "rope_q":
                    L.rope_q = &rope[0, 0]
                else:
                    L.rope_k = &rope[0, 0]
            cap, window = ls["capacity"], ls["window"]
            if cap < 1 or window < 0 or (window == 0 and cap != m.n_ctx) or (window and cap != min(window, m.n_ctx)):
                raise ValueError(f"blk.{il}: KV capacity {cap} does not fit window {window} and n_ctx {m.n_ctx}")
            for which in ("k_cache", "v_cache"):
                arr = ls[which]
                if arr.dtype != np.float32 or arr.shape != (nkv, cap, hd) or not arr.flags.c_contiguous \
                        or not arr.flags.writeable:
                    raise ValueError(f"blk.{il}.{which}: expected writable float32 [{nkv}, {cap}, {hd}]")
                self._keep.append(arr)
            kc, vc = ls["k_cache"], ls["v_cache"]
            L.k_cache, L.v_cache = &kc[0, 0, 0], &vc[0, 0, 0]
            L.capacity, L.window = cap, window
            self._max_cap = max(self._max_cap, cap)

        self._scratch(xq_bytes, max_threads)

    cdef _linear(self, fq_linear *L, spec, int64_t rows, int64_t cols, list xq_bytes, str what,
                 bint need_dot=True):
        type_id, data, q8 = spec
        cdef const fq_kernels *k = self.api.lookup(type_id)
        if k == NULL:
            raise ValueError(f"{what}: GGML type {type_id} has no kernels in this backend")
        if cols % k.block_size:
            raise ValueError(f"{what}: {cols} columns are not a multiple of the block size {k.block_size}")
        cdef int64_t rb = cols // k.block_size * k.type_size
        cdef const uint8_t[:, ::1] buf = data
        if buf.shape[0] != rows or buf.shape[1] != rb:
            raise ValueError(f"{what}: expected {rows} rows of {rb} bytes, got {buf.shape[0]} x {buf.shape[1]}")
        cdef int partner = k.partner if (q8 and k.dot_q8 != NULL) else FQ_ACT_F32
        if need_dot and partner == FQ_ACT_F32 and k.f32_sums and cols % FQ_XSUM_GROUP:
            raise ValueError(f"{what}: {cols} columns are not a multiple of {FQ_XSUM_GROUP}")
        if k.dequant == NULL or (need_dot and partner == FQ_ACT_F32 and k.dot_f32 == NULL):
            raise ValueError(f"{what}: this backend lacks a kernel for {k.name.decode()}")
        cdef const fq_act_format *af
        if need_dot and partner != FQ_ACT_F32:
            af = &self.api.act_formats[partner]
            if af.block < 1 or cols % af.block:
                raise ValueError(f"{what}: {cols} columns do not fit {af.name.decode()} activation blocks")
            xq_bytes[partner] = max(xq_bytes[partner], cols // af.block * af.block_bytes)
        self._keep.append(data)
        L.k, L.w, L.rows, L.cols, L.row_bytes = k, &buf[0, 0], rows, cols, rb
        L.partner = partner if need_dot else FQ_ACT_F32

    cdef _scratch(self, list xq_bytes, int max_threads):
        cdef fq_model *m = &self.m
        cdef fq_scratch *s = &self.s
        cdef int64_t nb = m.n_batch, d = m.n_embd, hd = m.head_dim
        widths = {"x": d, "h": d, "q": m.n_head * hd, "k": m.n_head_kv * hd, "v": m.n_head_kv * hd,
                  "att": m.n_head * hd, "o": d, "g": m.n_ff, "u": m.n_ff,
            # rows + sums, + 16 floats that may spread rows 4 KB apart (f32_rows.h) + 1
            "xs": max(d, m.n_ff, m.n_head * hd) * (FQ_XSUM_GROUP + 1) // FQ_XSUM_GROUP + 17}
        cdef float[:, ::1] buf
        arrays = {}
        for name, width in widths.items():
            arrays[name] = np.zeros((nb, width), dtype=np.float32)
        buf = arrays["x"]; s.x = &buf[0, 0]
        buf = arrays["h"]; s.h = &buf[0, 0]
        buf = arrays["q"]; s.q = &buf[0, 0]
        buf = arrays["k"]; s.k = &buf[0, 0]
        buf = arrays["v"]; s.v = &buf[0, 0]
        buf = arrays["att"]; s.att = &buf[0, 0]
        buf = arrays["o"]; s.o = &buf[0, 0]
        buf = arrays["g"]; s.g = &buf[0, 0]
        buf = arrays["u"]; s.u = &buf[0, 0]
        buf = arrays["xs"]; s.xs = &buf[0, 0]
        # x in FQ_X_WORDS16 order for f32 GEMVs and GEMMs (engine.c); untouched in q8 mode
        arrays["xw"] = np.zeros((nb, widths["xs"]), dtype=np.float32)
        buf = arrays["xw"]; s.xw = &buf[0, 0]
        # x in bf16 parts for the AMX f32 GEMM (engine.c), natural and FQ_X_WORDS16 order; pages
        # untouched unless used (np.zeros: calloc)
        cdef int64_t widest = max(d, m.n_ff, m.n_head * hd), tile_bytes = (widest + 31) // 32 * 3 * 1024
        cdef uint8_t[:, ::1] tiles
        for order in range(2):
            arrays[f"xb{order}"] = np.zeros(((nb + FQ_BF16X3_COLS - 1) // FQ_BF16X3_COLS, tile_bytes), np.uint8)
            tiles = arrays[f"xb{order}"]; s.xb[order] = &tiles[0, 0]
            arrays[f"xb_scale{order}"] = np.zeros((1, nb), dtype=np.float32)
            buf = arrays[f"xb_scale{order}"]; s.xb_scale[order] = &buf[0, 0]
        self._keep.append(arrays)
        cdef uint8_t[:, ::1] qbuf
        for p in range(FQ_ACT_COUNT):
            s.xq[p] = NULL
            if xq_bytes[p]:
                arr = np.zeros((nb, xq_bytes[p]), dtype=np.uint8)
                self._keep.append(arr)
                qbuf = arr
                s.xq[p] = &qbuf[0, 0]
        self._logits = np.zeros(m.n_vocab, dtype=np.float32)
        cdef float[::1] lg = self._logits
        s.logits = &lg[0]
        self._grow_scores(max(1, max_threads))

    cdef _grow_scores(self, int threads):
        cdef int64_t length = FQ_QUERY_BLOCK * max(self._max_cap + self.m.n_batch, self.m.head_dim)
        self._scores = np.zeros((threads, length), dtype=np.float32)
        cdef float[:, ::1] sc = self._scores
        self._amx = np.zeros((threads, FQ_BF16X3_SCRATCH + 64), dtype=np.uint8)   # + 64: alignment
        cdef uint8_t[:, ::1] amx = self._amx
        cdef uintptr_t at = <uintptr_t>&amx[0, 0]
        if FQ_BF16X3_SCRATCH % 64:
            raise RuntimeError("FQ_BF16X3_SCRATCH must be a multiple of 64")
        self.s.amx = <uint8_t *>((at + 63) // 64 * 64)
        self.s.scores, self.s.score_len, self.s.max_threads = &sc[0, 0], length, threads

    def forward(self, ids, int64_t pos0, bint half, int nthreads):
        """float32 [n_vocab] (a new array): logits of the last of `ids` run at positions pos0..
        Their keys and values go to the cache; earlier positions must be in it already."""
        cdef const int64_t[::1] idv = np.ascontiguousarray(ids, dtype=np.int64)
        cdef int64_t n = idv.shape[0], i
        if not 1 <= n <= self.n_batch:
            raise ValueError(f"the engine runs 1..{self.n_batch} tokens per call, got {n}")
        if pos0 < 0 or pos0 + n > self.n_ctx:
            raise ValueError(f"positions {pos0}..{pos0 + n - 1} do not fit the context of {self.n_ctx}")
        for i in range(n):
            if idv[i] < 0 or idv[i] >= self.n_vocab:
                raise ValueError(f"token id {idv[i]} is outside the vocabulary (0..{self.n_vocab - 1})")
        if nthreads < 1:
            raise ValueError(f"thread count must be 1 or more, got {nthreads}")
        if nthreads > self.s.max_threads:
            self._grow_scores(nthreads)
        with nogil:
            fq_engine_forward(&self.m, &self.s, &idv[0], n, pos0, half, nthreads)
        return self._logits.copy()


def round_f16(x):
    """float32 array rounded to the nearest half and back (the engine's f16 rounding)."""
    cdef float[::1] v = np.array(x, dtype=np.float32).reshape(-1)
    cdef Py_ssize_t i
    for i in range(v.shape[0]):
        v[i] = fq_round_f16(v[i])
    return np.asarray(v)
