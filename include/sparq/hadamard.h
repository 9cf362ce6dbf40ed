/* sparq Hadamard transform: the online rotation of a linear layer's input
 * (QuaRot-style W4A4/W4A8) in integers, and the symmetric requantization that
 * follows it. One definition for the host now and the device's vector unit
 * later; tests/test_numerics.c checks it against the matrix written out
 * from its definition.
 *
 * Orders. H_n exists here for n = m * p, p = 2^a, with m = 1 or m = q + 1 for
 * a prime q = 3 (mod 4) (Paley's construction I); m is the smallest such
 * factor, so powers of two are pure Sylvester (m = 1). Entries are +-1:
 *   H_n(i, j) = P_m(i / p, j / p) * (-1)^popcount((i % p) & (j % p))
 *   P_m(r, c) = 1 on the diagonal, 1 for r = 0 < c, -1 for c = 0 < r, and
 *             chi(c - r mod q) otherwise, chi the quadratic character mod q
 *             (1 for a nonzero square, -1 for a non-square).
 * H_n H_n^T = n I, so H_n / sqrt(n) is orthogonal. A layer whose input width
 * k has no order rotates the input zero-padded to the smallest order >= k.
 *
 * Integer rules.
 * - sq_had_i32: y = H_n x on int32 values, by Sylvester butterflies within each
 *   block of p and the m x m Paley matrix across blocks; every sum is exact
 *   when |x| <= 2^31 / n (an int16 input for n <= 2^16).
 * - sq_quant_sym_i32: q = sign(y) * floor((2 |y| qmax + A) / (2 A)), A =
 *   max|y| (round half away from zero of y * qmax / A, in int64), and A = 0
 *   gives 0; the caller's scale is A / qmax. */
#ifndef SPARQ_HADAMARD_H
#define SPARQ_HADAMARD_H

#include <stddef.h>
#include <stdint.h>

/* Largest order the transform takes (keeps int16 inputs exact in int32). */
#define SQ_HAD_MAX 65536u

/* Smallest order n >= k and its Paley factor *m (1: Sylvester); 0 when
 * k > SQ_HAD_MAX or k == 0. */
size_t sq_had_order(size_t k, size_t *m);

/* The m x m Paley matrix P_m as +-1 bytes (m = 1: {1}); m must be a factor
 * sq_had_order gives. */
void sq_had_base(size_t m, int8_t *tab);

/* In place x (n) = H_n x with n = m * 2^a, tab = sq_had_base(m), tmp
 * (m) scratch. */
void sq_had_i32(int32_t *x, size_t n, size_t m, const int8_t *tab, int32_t *tmp);

/* The same transform on doubles (unnormalized), for folding H_n into
 * weights offline. */
void sq_had_f64(double *x, size_t n, size_t m, const int8_t *tab, double *tmp);

/* Symmetric quantization of n int32 values (|y| < 2^31) to [-qmax, qmax]
 * (qmax in [1, 127]) by their own maximum; returns A = max|y|. */
int32_t sq_quant_sym_i32(const int32_t *y, size_t n, int32_t qmax, int8_t *q);

#endif /* SPARQ_HADAMARD_H */
