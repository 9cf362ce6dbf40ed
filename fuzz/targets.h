/* Fuzz targets: one per way a file (or a command stream) enters sparq. Each
 * takes the raw bytes of one input and runs the loader on them, then uses
 * what it loaded a little (a forward step, an encode, a dequantization), as
 * the CLI would. A target returns whatever the input: a one-line error is the
 * expected outcome for most inputs, and a crash, a sanitizer report, a hang
 * or an abort() of the target's own cross-checks is a finding.
 *
 * The same targets run under AFL++ (fuzz/main.c built by afl-clang-fast) and
 * under ASan + UBSan when `make test` replays the corpus and the saved
 * crashes (tests/test_fuzz.c). Inputs and seeds: fuzz/README.md. */
#ifndef SQ_FUZZ_TARGETS_H
#define SQ_FUZZ_TARGETS_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    const char *name; /* corpus folder fuzz/corpus/<name>/ */
    const char *what; /* one line for --help */
    /* Once per process before the first input (may be NULL); 0 or an
     * SQ_ERR_* code with a message. */
    int (*setup)(void);
    /* 1 when the loader accepted the input (it then went on to use it), 0
     * when it refused it with an error. */
    int (*run)(const uint8_t *data, size_t n);
} sq_fuzz_target_t;

/* The targets, ended by an entry with a NULL name. */
extern const sq_fuzz_target_t sq_fuzz_targets[];

/* The target called name, or NULL. */
const sq_fuzz_target_t *sq_fuzz_find(const char *name);

/* The .sqm image's CRCs (header and each payload the table locates inside
 * the image) recomputed in place, so that mutations reach the parser past its
 * checksum checks (target "sqm-crc"). */
void sq_fuzz_sqm_fix_crcs(uint8_t *img, size_t n);

#endif
