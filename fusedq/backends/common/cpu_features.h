/* Run-time CPU feature detection (cpuid + xgetbv): which SIMD targets this CPU and OS can run. */
#ifndef FQ_CPU_FEATURES_H
#define FQ_CPU_FEATURES_H

typedef struct fq_cpu {
    int x86;      /* cpuid available */
    int sse41, avx, fma, f16c, avx2, avx512f, avx512bw, avx512vl, avx512dq, avx512vnni;
    int os_ymm;   /* the OS saves YMM state (XCR0 bits 1 and 2) */
    int os_zmm;   /* ... and the AVX-512 state too (XCR0 bits 5, 6 and 7) */
} fq_cpu;

void fq_detect_cpu(fq_cpu *out);

#endif
