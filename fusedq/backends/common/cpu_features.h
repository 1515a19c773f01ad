/* Run-time CPU feature detection (cpuid + xgetbv): which SIMD targets this CPU and OS can run. */
#ifndef FQ_CPU_FEATURES_H
#define FQ_CPU_FEATURES_H

typedef struct fq_cpu {
    int x86;      /* cpuid available */
    int sse41, avx, fma, f16c, avx2, avx512f, avx512bw, avx512vl, avx512dq, avx512vnni;
    int amx_tile, amx_bf16;
    int os_ymm;   /* the OS saves YMM state (XCR0 bits 1 and 2) */
    int os_zmm;   /* ... and the AVX-512 state too (XCR0 bits 5, 6 and 7) */
    int os_amx;   /* ... and the AMX tile state (XCR0 bits 17 and 18) */
} fq_cpu;

void fq_detect_cpu(fq_cpu *out);
/* Asks the OS (Linux arch_prctl) to let this process use the AMX tile data; 1 when granted.
 * Required once per process before any thread executes a tile instruction. */
int fq_request_amx(void);

#endif
