/* Lookup over a backend's kernel table (included by each backend's table source). */
#ifndef FQ_TABLE_LOOKUP_H
#define FQ_TABLE_LOOKUP_H

#include "kernel_table.h"

#define FQ_TABLE_LEN(t) ((int)(sizeof(t) / sizeof((t)[0])))

#define FQ_DEFINE_LOOKUP(table)                                                                    \
    const fq_kernels *fq_table(int *count) {                                                     \
        *count = FQ_TABLE_LEN(table);                                                            \
        return table;                                                                            \
    }                                                                                            \
    const fq_kernels *fq_lookup(int type_id) {                                                   \
        for (int i = 0; i < FQ_TABLE_LEN(table); i++)                                            \
            if (table[i].type_id == type_id) return &table[i];                                   \
        return 0;                                                                                \
    }

#endif
