#include "compress/recipe.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/err.h"

#define KNOWN "fp32, w8, w4, w4g32/64/128 (+a8/a8s/a4, :rtn/:gptq[+seq]/:awq/:awq+gptq/" \
              ":smooth=A), " \
              "a8, a8s, a4, rot, prune:s=F[:wanda], 2:4[:wanda], heads:n=N, lowrank:r=N, " \
              "lowrank:e=F, share:k=N, distill:steps=N[:lr=X]"

/* Strict decimal parameter: the whole string is a number within [lo, hi]. */
static int param_long(const char *pass, const char *s, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (!*s || *end || errno || v < lo || v > hi)
        return sq_err(SQ_ERR_ARG, "recipe pass '%s': '%s' is not an integer in [%ld, %ld]", pass,
                      s, lo, hi);
    *out = v;
    return 0;
}

static int param_double(const char *pass, const char *s, double lo, double hi, int open_lo,
                        int open_hi, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (!*s || *end || errno || v != v || v < lo || v > hi || (open_lo && v == lo) ||
        (open_hi && v == hi))
        return sq_err(SQ_ERR_ARG, "recipe pass '%s': '%s' is not a number in %c%g, %g%c", pass, s,
                      open_lo ? '(' : '[', lo, hi, open_hi ? ')' : ']');
    *out = v;
    return 0;
}

/* Splits "name:key=value" and checks key; returns the value or NULL. */
static const char *param_of(const char *pass, const char *key)
{
    const char *colon = strchr(pass, ':');
    if (!colon)
        return NULL;
    size_t kl = strlen(key);
    if (strncmp(colon + 1, key, kl) || colon[1 + kl] != '=')
        return NULL;
    return colon + 2 + kl;
}

static int once(int *seen, const char *pass)
{
    if (*seen)
        return sq_err(SQ_ERR_ARG, "recipe pass '%s' given twice", pass);
    *seen = 1;
    return 0;
}

static int parse_act(const char *pass, const char *s, sq_recipe_t *r)
{
    r->abits = 8;
    if (!strcmp(s, "a8")) {
        r->act = SQ_ACT_DYNAMIC;
    } else if (!strcmp(s, "a8s")) {
        r->act = SQ_ACT_STATIC;
    } else if (!strcmp(s, "a4")) {
        r->act = SQ_ACT_DYNAMIC;
        r->abits = 4;
    } else {
        return sq_err(SQ_ERR_ARG, "recipe pass '%s': unknown activation mode '%s' (a8, a8s, a4)",
                      pass, s);
    }
    return 0;
}

/* The solver suffix: rtn | gptq | awq | awq+gptq | smooth=A | smooth=A+gptq,
 * gptq optionally followed by +seq. */
static int parse_solver(const char *pass, const char *s, sq_recipe_t *r)
{
    char buf[64];
    if (strlen(s) >= sizeof buf)
        return sq_err(SQ_ERR_ARG, "recipe pass '%s': unknown solver '%s'", pass, s);
    strcpy(buf, s);
    int seen_solver = 0, seen_scale = 0, seen_seq = 0, rc = 0;
    char *save = NULL;
    for (char *item = strtok_r(buf, "+", &save); item && !rc; item = strtok_r(NULL, "+", &save)) {
        if (!strcmp(item, "gptq") || !strcmp(item, "rtn")) {
            if (seen_solver++)
                return sq_err(SQ_ERR_ARG, "recipe pass '%s': two solvers", pass);
            r->solver = item[0] == 'g' ? SQ_SOLVE_GPTQ : SQ_SOLVE_RTN;
        } else if (!strcmp(item, "seq")) {
            if (seen_seq++ || r->solver != SQ_SOLVE_GPTQ)
                return sq_err(SQ_ERR_ARG, "recipe pass '%s': seq follows gptq, once", pass);
            r->seq = 1;
        } else if (!strcmp(item, "awq") || !strncmp(item, "smooth=", 7)) {
            if (seen_scale++ || seen_solver)
                return sq_err(SQ_ERR_ARG, "recipe pass '%s': one of awq or smooth=A, before the "
                                          "solver", pass);
            if (item[0] == 'a')
                r->awq = 1;
            else
                rc = param_double(pass, item + 7, 0, 1, 1, 1, &r->smooth);
        } else {
            return sq_err(SQ_ERR_ARG,
                          "recipe pass '%s': unknown solver '%s' (rtn, gptq, gptq+seq, awq, "
                          "awq+gptq, smooth=A, smooth=A+gptq)",
                          pass, item);
        }
    }
    if (!rc && (s[0] == '+' || s[strlen(s) - 1] == '+' || strstr(s, "++") || !s[0]))
        rc = sq_err(SQ_ERR_ARG, "recipe pass '%s': empty solver", pass);
    return rc;
}

/* w8 | w4 | w4gG, then optional a8/a8s, then optional :rtn/:gptq. */
static int parse_weight(const char *pass, sq_recipe_t *r, int *seen_act)
{
    const char *p = pass + 1;
    if (*p == '8')
        r->wbits = 8;
    else if (*p == '4')
        r->wbits = 4;
    else
        return sq_err(SQ_ERR_ARG, "recipe pass '%s': weights are w8 or w4", pass);
    p++;
    if (*p == 'g') {
        if (r->wbits != 4)
            return sq_err(SQ_ERR_ARG, "recipe pass '%s': groups apply to int4 weights only", pass);
        char *end;
        long g = strtol(p + 1, &end, 10);
        if (end == p + 1 || (g != 32 && g != 64 && g != 128))
            return sq_err(SQ_ERR_ARG, "recipe pass '%s': group size must be 32, 64 or 128", pass);
        r->group = (size_t)g;
        p = end;
    }
    char act[8] = "";
    const char *colon = strchr(p, ':');
    size_t alen = colon ? (size_t)(colon - p) : strlen(p);
    if (alen >= sizeof act)
        return sq_err(SQ_ERR_ARG, "recipe pass '%s': unknown activation mode", pass);
    memcpy(act, p, alen);
    act[alen] = 0;
    if (alen) {
        if (*seen_act)
            return sq_err(SQ_ERR_ARG, "recipe pass '%s': activation mode given twice", pass);
        int rc = parse_act(pass, act, r);
        if (rc)
            return rc;
        *seen_act = 1;
    }
    return colon ? parse_solver(pass, colon + 1, r) : 0;
}

int sq_recipe_parse(const char *spec, sq_recipe_t *r)
{
    memset(r, 0, sizeof *r);
    char buf[256];
    if (strlen(spec) >= sizeof buf)
        return sq_err(SQ_ERR_ARG, "recipe too long (at most %zu bytes)", sizeof buf - 1);
    if (!*spec)
        return sq_err(SQ_ERR_ARG, "empty recipe (use fp32 for none)");
    strcpy(buf, spec);
    int seen_w = 0, seen_a = 0, seen_prune = 0, seen_24 = 0, seen_heads = 0, seen_lr = 0;
    int seen_share = 0, seen_distill = 0, seen_rot = 0, rc = 0;
    size_t len = strlen(buf);
    if (buf[0] == ',' || buf[len - 1] == ',' || strstr(buf, ",,"))
        return sq_err(SQ_ERR_ARG, "recipe '%s' has an empty pass", spec);
    for (char *save = NULL, *pass = strtok_r(buf, ",", &save); pass && !rc;
         pass = strtok_r(NULL, ",", &save)) {
        const char *v;
        long n;
        if (!strcmp(pass, "fp32")) {
            continue;
        } else if (pass[0] == 'w' && (pass[1] >= '0' && pass[1] <= '9')) {
            if (!(rc = once(&seen_w, pass)))
                rc = parse_weight(pass, r, &seen_a);
        } else if (!strcmp(pass, "a8") || !strcmp(pass, "a8s") || !strcmp(pass, "a4")) {
            if (!(rc = once(&seen_a, pass)))
                rc = parse_act(pass, pass, r);
        } else if (!strcmp(pass, "rot")) {
            rc = once(&seen_rot, pass);
            r->rot = 1;
        } else if (!strcmp(pass, "2:4") || !strcmp(pass, "2:4:wanda")) {
            rc = once(&seen_24, pass);
            r->sp24 = 1;
            r->wanda |= pass[3] == ':';
        } else if (!strncmp(pass, "prune", 5) && (pass[5] == ':' || !pass[5])) {
            size_t pl = strlen(pass);
            int wanda = pl > 6 && !strcmp(pass + pl - 6, ":wanda");
            if (wanda)
                pass[pl - 6] = 0;
            if (!(rc = once(&seen_prune, pass))) {
                if (!(v = param_of(pass, "s")))
                    rc = sq_err(SQ_ERR_ARG, "recipe pass '%s': expected prune:s=F[:wanda]", pass);
                else
                    rc = param_double(pass, v, 0, 1, 0, 1, &r->sparsity);
            }
            r->wanda |= wanda;
        } else if (!strncmp(pass, "heads", 5) && (pass[5] == ':' || !pass[5])) {
            if (!(rc = once(&seen_heads, pass))) {
                if (!(v = param_of(pass, "n")))
                    rc = sq_err(SQ_ERR_ARG, "recipe pass '%s': expected heads:n=N", pass);
                else if (!(rc = param_long(pass, v, 1, 1 << 16, &n)))
                    r->heads = (int)n;
            }
        } else if (!strncmp(pass, "lowrank", 7) && (pass[7] == ':' || !pass[7])) {
            if (!(rc = once(&seen_lr, pass))) {
                if ((v = param_of(pass, "r"))) {
                    if (!(rc = param_long(pass, v, 1, 1 << 16, &n)))
                        r->rank = (int)n;
                } else if ((v = param_of(pass, "e"))) {
                    rc = param_double(pass, v, 0, 1, 1, 0, &r->energy);
                } else {
                    rc = sq_err(SQ_ERR_ARG, "recipe pass '%s': expected lowrank:r=N or lowrank:e=F",
                                pass);
                }
            }
        } else if (!strncmp(pass, "share", 5) && (pass[5] == ':' || !pass[5])) {
            if (!(rc = once(&seen_share, pass))) {
                if (!(v = param_of(pass, "k")))
                    rc = sq_err(SQ_ERR_ARG, "recipe pass '%s': expected share:k=N", pass);
                else if (!(rc = param_long(pass, v, 2, 256, &n)))
                    r->share = (int)n;
            }
        } else if (!strncmp(pass, "distill", 7) && (pass[7] == ':' || !pass[7])) {
            char *lr = strstr(pass, ":lr=");
            if (lr)
                *lr = 0; /* pass now ends at steps=N */
            if (!(rc = once(&seen_distill, pass))) {
                if (!(v = param_of(pass, "steps")))
                    rc = sq_err(SQ_ERR_ARG, "recipe pass '%s': expected distill:steps=N[:lr=X]",
                                pass);
                else if (!(rc = param_long(pass, v, 1, 1000000, &n)))
                    r->distill_steps = (int)n;
            }
            if (!rc && lr)
                rc = param_double(pass, lr + 4, 0, 1, 1, 1, &r->distill_lr);
        } else {
            rc = sq_err(SQ_ERR_ARG, "unknown recipe pass '%s' (known: " KNOWN ")", pass);
        }
    }
    if (rc)
        return rc;
    if (r->sp24 && r->wbits == 4)
        return sq_err(SQ_ERR_ARG, "recipe '%s': 2:4 weights are int8 (the unit has no int4 2:4 mode)",
                      spec);
    if (r->sp24 && r->sparsity > 0)
        return sq_err(SQ_ERR_ARG, "recipe '%s': choose either 2:4 or prune:s=F", spec);
    if (r->sp24 && !r->wbits)
        r->wbits = 8;
    if (seen_a && !r->wbits)
        return sq_err(SQ_ERR_ARG, "recipe '%s': activation quantization needs w8 or w4 weights",
                      spec);
    if (r->wbits && !seen_a) {
        r->act = SQ_ACT_DYNAMIC;
        r->abits = 8;
    }
    if ((r->rot || r->awq || r->smooth > 0) && !r->wbits)
        return sq_err(SQ_ERR_ARG, "recipe '%s': rot, awq and smooth prepare weights for "
                                  "quantization and need a weight pass", spec);
    if ((r->rot || r->awq || r->smooth > 0) && (r->rank || r->energy > 0))
        return sq_err(SQ_ERR_ARG, "recipe '%s': rot, awq and smooth do not combine with lowrank",
                      spec);
    if (r->rot && r->act == SQ_ACT_STATIC)
        return sq_err(SQ_ERR_ARG, "recipe '%s': rot quantizes activations per token (a8 or a4, "
                                  "not a8s)", spec);
    if (r->wanda && r->solver == SQ_SOLVE_GPTQ)
        return sq_err(SQ_ERR_ARG, "recipe '%s': with gptq the masks are SparseGPT's; drop :wanda",
                      spec);
    return 0;
}

int sq_recipe_needs_calib(const sq_recipe_t *r)
{
    return r->solver == SQ_SOLVE_GPTQ || r->act == SQ_ACT_STATIC || r->heads > 0 ||
           r->distill_steps > 0 || r->awq || r->smooth > 0 || r->wanda;
}

int sq_recipe_transforms(const sq_recipe_t *r)
{
    return r->rot || r->awq || r->smooth > 0;
}

int sq_recipe_is_identity(const sq_recipe_t *r)
{
    return !r->wbits && !r->sparsity && !r->sp24 && !r->heads && !r->rank && !r->energy &&
           !r->share && !r->distill_steps;
}

/* Appends ",part" (or "part" at the start) to buf. */
static void append(char *buf, size_t cap, const char *part)
{
    size_t used = strlen(buf);
    snprintf(buf + used, cap - used, "%s%s", used ? "," : "", part);
}

void sq_recipe_format(const sq_recipe_t *r, char *buf, size_t cap)
{
    char part[96];
    buf[0] = 0;
    if (r->rot)
        append(buf, cap, "rot");
    if (r->heads) {
        snprintf(part, sizeof part, "heads:n=%d", r->heads);
        append(buf, cap, part);
    }
    if (r->rank) {
        snprintf(part, sizeof part, "lowrank:r=%d", r->rank);
        append(buf, cap, part);
    } else if (r->energy > 0) {
        snprintf(part, sizeof part, "lowrank:e=%g", r->energy);
        append(buf, cap, part);
    }
    if (r->sparsity > 0) {
        snprintf(part, sizeof part, "prune:s=%g%s", r->sparsity, r->wanda ? ":wanda" : "");
        append(buf, cap, part);
    }
    if (r->sp24)
        append(buf, cap, r->wanda ? "2:4:wanda" : "2:4");
    if (r->share) {
        snprintf(part, sizeof part, "share:k=%d", r->share);
        append(buf, cap, part);
    }
    if (r->wbits) {
        char g[24] = "";
        if (r->group)
            snprintf(g, sizeof g, "g%zu", r->group);
        char sol[48] = "";
        if (r->smooth > 0)
            snprintf(sol, sizeof sol, ":smooth=%g%s", r->smooth,
                     r->solver == SQ_SOLVE_GPTQ ? "+gptq" : "");
        else if (r->awq)
            snprintf(sol, sizeof sol, ":awq%s", r->solver == SQ_SOLVE_GPTQ ? "+gptq" : "");
        else if (r->solver == SQ_SOLVE_GPTQ)
            snprintf(sol, sizeof sol, ":gptq");
        if (r->seq) {
            size_t used = strlen(sol);
            snprintf(sol + used, sizeof sol - used, "+seq");
        }
        snprintf(part, sizeof part, "w%d%s%s%s", r->wbits, g,
                 r->act == SQ_ACT_STATIC ? "a8s" : r->abits == 4 ? "a4" : "a8", sol);
        append(buf, cap, part);
    }
    if (r->distill_steps) {
        snprintf(part, sizeof part, "distill:steps=%d", r->distill_steps);
        if (r->distill_lr > 0)
            snprintf(part + strlen(part), sizeof part - strlen(part), ":lr=%g", r->distill_lr);
        append(buf, cap, part);
    }
    if (!buf[0])
        snprintf(buf, cap, "fp32");
}
