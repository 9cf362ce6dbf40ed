/* The integer Hadamard transform; the rules are in include/sparq/hadamard.h. */
#include "sparq/hadamard.h"

static int is_prime(size_t q)
{
    if (q < 2)
        return 0;
    for (size_t d = 2; d * d <= q; d++)
        if (q % d == 0)
            return 0;
    return 1;
}

/* m = q + 1 for a prime q = 3 (mod 4): Paley's construction I applies. */
static int paley_ok(size_t m)
{
    return m >= 4 && (m - 1) % 4 == 3 && is_prime(m - 1);
}

static int pow2(size_t p)
{
    return p && !(p & (p - 1));
}

size_t sq_had_order(size_t k, size_t *m)
{
    for (size_t n = k; n > 0 && n <= SQ_HAD_MAX; n++) {
        if (pow2(n)) {
            *m = 1;
            return n;
        }
        /* the smallest Paley factor with a power-of-two cofactor */
        for (size_t f = 4; f <= n; f += 4)
            if (n % f == 0 && pow2(n / f) && paley_ok(f)) {
                *m = f;
                return n;
            }
    }
    *m = 0;
    return 0;
}

/* a^e mod q. */
static size_t powmod(size_t a, size_t e, size_t q)
{
    size_t r = 1;
    a %= q;
    for (; e; e >>= 1) {
        if (e & 1)
            r = r * a % q;
        a = a * a % q;
    }
    return r;
}

void sq_had_base(size_t m, int8_t *tab)
{
    size_t q = m - 1;
    for (size_t r = 0; r < m; r++)
        for (size_t c = 0; c < m; c++) {
            int8_t v;
            if (r == c || r == 0)
                v = 1;
            else if (c == 0)
                v = -1;
            else /* Euler's criterion: chi(a) = a^((q-1)/2) mod q */
                v = powmod((c + q - r) % q, (q - 1) / 2, q) == 1 ? 1 : -1;
            tab[r * m + c] = v;
        }
}

/* One transform for both element types: int32 (the online rule) and double
 * (folding the same rotation into weights offline). */
#define HAD_BODY(T)                                                                   \
    size_t p = n / m;                                                                 \
    for (size_t b = 0; b < m; b++) {                                                  \
        T *v = x + b * p;                                                             \
        for (size_t h = 1; h < p; h <<= 1)                                            \
            for (size_t i = 0; i < p; i += h << 1)                                    \
                for (size_t j = i; j < i + h; j++) {                                  \
                    T a = v[j], c = v[j + h];                                         \
                    v[j] = a + c;                                                     \
                    v[j + h] = a - c;                                                 \
                }                                                                     \
    }                                                                                 \
    for (size_t j = 0; m > 1 && j < p; j++) {                                         \
        for (size_t r = 0; r < m; r++) {                                              \
            T acc = 0;                                                                \
            for (size_t c = 0; c < m; c++)                                            \
                acc += tab[r * m + c] * x[c * p + j];                                 \
            tmp[r] = acc;                                                             \
        }                                                                             \
        for (size_t r = 0; r < m; r++)                                                \
            x[r * p + j] = tmp[r];                                                    \
    }

void sq_had_i32(int32_t *x, size_t n, size_t m, const int8_t *tab, int32_t *tmp)
{
    HAD_BODY(int32_t)
}

void sq_had_f64(double *x, size_t n, size_t m, const int8_t *tab, double *tmp)
{
    HAD_BODY(double)
}

int32_t sq_quant_sym_i32(const int32_t *y, size_t n, int32_t qmax, int8_t *q)
{
    int64_t amax = 0;
    for (size_t i = 0; i < n; i++) {
        int64_t a = y[i] < 0 ? -(int64_t)y[i] : y[i];
        if (a > amax)
            amax = a;
    }
    for (size_t i = 0; i < n; i++) {
        if (!amax) {
            q[i] = 0;
            continue;
        }
        int64_t a = y[i] < 0 ? -(int64_t)y[i] : y[i];
        int64_t r = (2 * a * qmax + amax) / (2 * amax);
        q[i] = (int8_t)(y[i] < 0 ? -r : r);
    }
    return (int32_t)amax;
}
