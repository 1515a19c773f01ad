/* The GGML types every compiled backend implements, listed once (mirrors fusedq/types.py; a test
 * checks each backend's table against it). A backend expands the list with its own row macros:
 *   FLOAT(id, NAME, type_size, name)  QUANT(id, NAME, block_size, type_size, partner, name) */
#ifndef FQ_TYPE_LIST_H
#define FQ_TYPE_LIST_H

#define FQ_FOR_EACH_TYPE(FLOAT, QUANT)                  \
    FLOAT(0, "F32", 4, f32)                             \
    FLOAT(1, "F16", 2, f16)                             \
    FLOAT(30, "BF16", 2, bf16)                          \
    QUANT(2, "Q4_0", 32, 18, FQ_ACT_Q8_0, q4_0)         \
    QUANT(3, "Q4_1", 32, 20, FQ_ACT_Q8_1, q4_1)         \
    QUANT(6, "Q5_0", 32, 22, FQ_ACT_Q8_0, q5_0)         \
    QUANT(7, "Q5_1", 32, 24, FQ_ACT_Q8_1, q5_1)         \
    QUANT(8, "Q8_0", 32, 34, FQ_ACT_Q8_0, q8_0)         \
    QUANT(10, "Q2_K", 256, 84, FQ_ACT_Q8_K, q2_K)       \
    QUANT(11, "Q3_K", 256, 110, FQ_ACT_Q8_K, q3_K)      \
    QUANT(12, "Q4_K", 256, 144, FQ_ACT_Q8_K, q4_K)      \
    QUANT(13, "Q5_K", 256, 176, FQ_ACT_Q8_K, q5_K)      \
    QUANT(14, "Q6_K", 256, 210, FQ_ACT_Q8_K, q6_K)      \
    QUANT(20, "IQ4_NL", 32, 18, FQ_ACT_Q8_0, iq4_nl)    \
    QUANT(23, "IQ4_XS", 256, 136, FQ_ACT_Q8_K, iq4_xs)

#endif
