/* Unicode data for BERT's uncased normalisation, generated into
 * unicode_tab.c by scripts/gen_unicode_tables.py (both tables sorted by code
 * point, for binary search). */
#ifndef SQ_UNICODE_TAB_H
#define SQ_UNICODE_TAB_H

#include <stddef.h>
#include <stdint.h>

/* Class 1: whitespace (becomes a space), 2: control, unassigned or private
 * use (removed), 3: punctuation (a token of its own). Absent: 0. */
typedef struct {
    uint32_t lo, hi;
    uint8_t klass;
} sq_uc_range_t;

/* cp -> sq_uc_fold_out[off .. off+len): NFD, nonspacing marks dropped,
 * lowercased. Absent: cp maps to itself. */
typedef struct {
    uint32_t cp;
    uint16_t off;
    uint8_t len;
} sq_uc_fold_t;

extern const sq_uc_range_t sq_uc_classes[];
extern const size_t sq_uc_n_classes;
extern const uint32_t sq_uc_fold_out[];
extern const sq_uc_fold_t sq_uc_folds[];
extern const size_t sq_uc_n_folds;

#endif
