/* The one OpenMP shim: kernels compile with or without OpenMP (FUSEDQ_HAVE_OPENMP from setup.py). */
#ifndef FQ_OMP_SHIM_H
#define FQ_OMP_SHIM_H

#if FUSEDQ_HAVE_OPENMP
#include <omp.h>
static inline int fq_omp_compiled(void) { return 1; }
static inline int fq_omp_thread_id(void) { return omp_get_thread_num(); }
#define FQ_OMP(directive) _Pragma(directive)
#else
static inline int fq_omp_compiled(void) { return 0; }
static inline int fq_omp_thread_id(void) { return 0; }
#define FQ_OMP(directive)
#endif

#endif
