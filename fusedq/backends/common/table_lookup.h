/* Lookup over a backend's kernel table (included by each backend's table source). */
#ifndef FQ_TABLE_LOOKUP_H
#define FQ_TABLE_LOOKUP_H

#include "kernel_table.h"

#define FQ_TABLE_LEN(t) ((int)(sizeof(t) / sizeof((t)[0])))

/* fq_lookup over whatever fq_table() returns (a backend with several tables defines fq_table). */
#define FQ_DEFINE_LOOKUP_OVER_TABLE                                                                \
    const fq_kernels *fq_lookup(int type_id) {                                                   \
        int count;                                                                               \
        const fq_kernels *t = fq_table(&count);                                                  \
        for (int i = 0; i < count; i++)                                                          \
            if (t[i].type_id == type_id) return &t[i];                                           \
        return 0;                                                                                \
    }

/* fq_table and fq_lookup for a backend with one static table. */
#define FQ_DEFINE_LOOKUP(table)                                                                    \
    const fq_kernels *fq_table(int *count) {                                                     \
        *count = FQ_TABLE_LEN(table);                                                            \
        return table;                                                                            \
    }                                                                                            \
    FQ_DEFINE_LOOKUP_OVER_TABLE

#endif
