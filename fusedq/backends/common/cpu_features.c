/* cpuid + xgetbv probe, and the AMX permission request. Compiled without any SIMD target
 * flags, so it runs on every x86-64. */
#define _GNU_SOURCE /* syscall() under -std=c11 */
#include <string.h>

#include "cpu_features.h"

#if defined(__linux__) && defined(__x86_64__)
#include <sys/syscall.h>
#include <unistd.h>
#define FQ_ARCH_REQ_XCOMP_PERM 0x1023
#define FQ_XFEATURE_XTILEDATA 18
int fq_request_amx(void) {
    return syscall(SYS_arch_prctl, FQ_ARCH_REQ_XCOMP_PERM, FQ_XFEATURE_XTILEDATA) == 0;
}
#else
int fq_request_amx(void) { return 0; }
#endif

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>

static unsigned long long read_xcr0(void) {
    unsigned int lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return ((unsigned long long)hi << 32) | lo;
}

void fq_detect_cpu(fq_cpu *out) {
    unsigned int a, b, c, d;
    memset(out, 0, sizeof(*out));
    if (!__get_cpuid(1, &a, &b, &c, &d)) return;
    out->x86 = 1;
    out->sse41 = (c >> 19) & 1;
    out->fma = (c >> 12) & 1;
    out->avx = (c >> 28) & 1;
    out->f16c = (c >> 29) & 1;
    int osxsave = (c >> 27) & 1;
    const unsigned long long xcr0 = osxsave ? read_xcr0() : 0;
    out->os_ymm = (xcr0 & 0x6) == 0x6;
    out->os_zmm = (xcr0 & 0xe6) == 0xe6;
    out->os_amx = (xcr0 & 0x60000) == 0x60000;
    if (__get_cpuid_max(0, 0) >= 7) {
        __cpuid_count(7, 0, a, b, c, d);
        out->avx2 = (b >> 5) & 1;
        out->avx512f = (b >> 16) & 1;
        out->avx512dq = (b >> 17) & 1;
        out->avx512bw = (b >> 30) & 1;
        out->avx512vl = (b >> 31) & 1;
        out->avx512vnni = (c >> 11) & 1;
        out->amx_bf16 = (d >> 22) & 1;
        out->amx_tile = (d >> 24) & 1;
    }
}
#else
void fq_detect_cpu(fq_cpu *out) { memset(out, 0, sizeof(*out)); }
#endif
