#!/usr/bin/env bash
# AddressSanitizer pass: builds the compiled kernels with -fsanitize=address in a scratch copy of
# the repository (the caller's in-place build is never touched) and runs the kernel, tensor and
# GGUF tests under ASan. Any out-of-bounds access aborts the run with ASan's report.
#
#   .ci/asan.sh                 # default test selection (see TESTS below)
#   .ci/asan.sh tests/foo.py    # explicit pytest arguments instead
#
# Bounded: the build and the tests each run under `timeout` (FUSEDQ_ASAN_TIMEOUT seconds, default
# 600). Needs gcc (or $CC) with libasan. Exit status: pytest's, or 1 if the build is not sanitized.
set -euo pipefail

repo="$(cd "$(dirname "$0")/.." && pwd)"
limit="${FUSEDQ_ASAN_TIMEOUT:-600}"
cc="${CC:-gcc}"
libasan="$("$cc" -print-file-name=libasan.so)"
if [[ ! -e "$libasan" ]]; then
    echo "asan.sh: $cc has no libasan.so (install libasan / gcc's sanitizer runtime)" >&2
    exit 1
fi

scratch="$(mktemp -d "${TMPDIR:-/tmp}/fusedq-asan.XXXXXX")"
trap 'rm -rf "$scratch"' EXIT

# The work tree as it is (tracked and new files, minus ignored ones such as old builds).
(cd "$repo" && git ls-files -z --cached --others --exclude-standard) |
    while IFS= read -r -d '' f; do
        [[ -f "$repo/$f" ]] && printf '%s\0' "$f"
    done | (cd "$repo" && xargs -0 -r cp --parents -t "$scratch")
find "$scratch" -name '*.so' -delete

cd "$scratch"
echo "asan.sh: building the extensions with AddressSanitizer in $scratch"
if ! FUSEDQ_SANITIZE=address timeout "$limit" python setup.py build_ext --inplace --force \
        --parallel 2 > build.log 2>&1; then
    tail -n 40 build.log >&2
    echo "asan.sh: the ASan build failed" >&2
    exit 1
fi

mapfile -t built < <(find fusedq -name '*.so')
if (( ${#built[@]} == 0 )); then
    echo "asan.sh: no compiled extensions in this tree; the tests below exercise Python code only"
fi
for so in "${built[@]}"; do
    deps="$(ldd "$so")"   # (not piped into grep -q: with pipefail, ldd's SIGPIPE would count as failure)
    if [[ "$deps" != *libasan* ]]; then
        echo "asan.sh: $so is not linked against libasan: the build ignored FUSEDQ_SANITIZE" >&2
        exit 1
    fi
    echo "asan.sh: sanitized $so"
done

if (( $# )); then
    tests=("$@")
else
    # kernels, the compiled model engine, the tensor API, the GGUF loader, reliability
    tests=()
    for candidate in tests/backends tests/model/test_engine.py tests/model/test_synthetic.py \
                     tests/test_tensor.py tests/test_gguf_load.py tests/reliability; do
        [[ -e "$candidate" ]] && tests+=("$candidate")
    done
fi

echo "asan.sh: running pytest ${tests[*]}"
# Python itself is not sanitized: preload the runtime; CPython's arenas look like leaks, so no
# leak checking. Workers spawned by the reliability tests inherit these and skip RLIMIT_AS.
export LD_PRELOAD="$libasan${LD_PRELOAD:+:$LD_PRELOAD}"
export ASAN_OPTIONS="detect_leaks=0:abort_on_error=1:halt_on_error=1:allocator_may_return_null=1${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
export FUSEDQ_ASAN=1

# Canary: the preloaded runtime must catch a heap overflow, or this pass proves nothing.
if ASAN_OPTIONS="$ASAN_OPTIONS:abort_on_error=0" python -c "
import ctypes
libc = ctypes.CDLL(None)
libc.malloc.restype = ctypes.c_void_p
ctypes.memmove(ctypes.create_string_buffer(64), libc.malloc(16), 32)
" 2> canary.log || ! grep -q heap-buffer-overflow canary.log; then
    echo "asan.sh: ASan did not catch a deliberate heap overflow; the runtime is not active" >&2
    exit 1
fi
echo "asan.sh: canary ok (a deliberate heap overflow was caught)"
# RSS measurements mean nothing under ASan (shadow memory, quarantine): deselect them.
timeout "$limit" python -m pytest -q -p no:cacheprovider -x \
    --deselect tests/test_gguf_load.py::test_gemma3_load_is_zero_copy "${tests[@]}"
