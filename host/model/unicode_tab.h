/* Unicode data for BERT's uncased normalisation and the GPT-2 pre-tokenizer,
 * generated into unicode_tab.c by scripts/gen_unicode_tables.py (both tables
 * sorted by code point, for binary search). */
#ifndef SQ_UNICODE_TAB_H
#define SQ_UNICODE_TAB_H

#include <stddef.h>
#include <stdint.h>

/* BERT classes (at most one is set): whitespace (becomes a space); control,
 * format, unassigned or private use (removed); punctuation incl. every ASCII
 * symbol (a token of its own). */
#define SQ_UC_BERT_SPACE   (1u << 0)
#define SQ_UC_BERT_CONTROL (1u << 1)
#define SQ_UC_BERT_PUNCT   (1u << 2)
/* General categories L* and N*, and the White_Space property (regex \s). */
#define SQ_UC_LETTER (1u << 3)
#define SQ_UC_NUMBER (1u << 4)
#define SQ_UC_SPACE  (1u << 5)

/* Code points without an entry have no flag set. */
typedef struct {
    uint32_t lo, hi;
    uint8_t flags;
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

/* Flags of one code point (binary search). */
unsigned sq_uc_flags(uint32_t cp);

#endif
