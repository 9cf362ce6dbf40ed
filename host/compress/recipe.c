#include "compress/recipe.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/err.h"

#define KNOWN "fp32, w8, w4, w4g32/64/128 (+a8/a8s, :rtn/:gptq), a8, a8s, prune:s=F, 2:4, " \
              "heads:n=N, lowrank:r=N, lowrank:e=F, share:k=N, distill:steps=N"

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

static int parse_act(const char *pass, const char *s, sq_act_mode_t *act)
{
    if (!strcmp(s, "a8"))
        *act = SQ_ACT_DYNAMIC;
    else if (!strcmp(s, "a8s"))
        *act = SQ_ACT_STATIC;
    else
        return sq_err(SQ_ERR_ARG, "recipe pass '%s': unknown activation mode '%s' (a8, a8s)", pass,
                      s);
    return 0;
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
        int rc = parse_act(pass, act, &r->act);
        if (rc)
            return rc;
        *seen_act = 1;
    }
    if (colon) {
        if (!strcmp(colon + 1, "gptq"))
            r->solver = SQ_SOLVE_GPTQ;
        else if (strcmp(colon + 1, "rtn"))
            return sq_err(SQ_ERR_ARG, "recipe pass '%s': unknown solver '%s' (rtn, gptq)", pass,
                          colon + 1);
    }
    return 0;
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
    int seen_share = 0, seen_distill = 0, rc = 0;
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
        } else if (!strcmp(pass, "a8") || !strcmp(pass, "a8s")) {
            if (!(rc = once(&seen_a, pass)))
                rc = parse_act(pass, pass, &r->act);
        } else if (!strcmp(pass, "2:4")) {
            rc = once(&seen_24, pass);
            r->sp24 = 1;
        } else if (!strncmp(pass, "prune", 5) && (pass[5] == ':' || !pass[5])) {
            if (!(rc = once(&seen_prune, pass))) {
                if (!(v = param_of(pass, "s")))
                    rc = sq_err(SQ_ERR_ARG, "recipe pass '%s': expected prune:s=F", pass);
                else
                    rc = param_double(pass, v, 0, 1, 0, 1, &r->sparsity);
            }
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
            if (!(rc = once(&seen_distill, pass))) {
                if (!(v = param_of(pass, "steps")))
                    rc = sq_err(SQ_ERR_ARG, "recipe pass '%s': expected distill:steps=N", pass);
                else if (!(rc = param_long(pass, v, 1, 1000000, &n)))
                    r->distill_steps = (int)n;
            }
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
    if (r->wbits && !seen_a)
        r->act = SQ_ACT_DYNAMIC;
    return 0;
}

int sq_recipe_needs_calib(const sq_recipe_t *r)
{
    return r->solver == SQ_SOLVE_GPTQ || r->act == SQ_ACT_STATIC || r->heads > 0 ||
           r->distill_steps > 0;
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
        snprintf(part, sizeof part, "prune:s=%g", r->sparsity);
        append(buf, cap, part);
    }
    if (r->sp24)
        append(buf, cap, "2:4");
    if (r->share) {
        snprintf(part, sizeof part, "share:k=%d", r->share);
        append(buf, cap, part);
    }
    if (r->wbits) {
        char g[24] = "";
        if (r->group)
            snprintf(g, sizeof g, "g%zu", r->group);
        snprintf(part, sizeof part, "w%d%s%s%s", r->wbits, g,
                 r->act == SQ_ACT_STATIC ? "a8s" : "a8", r->solver == SQ_SOLVE_GPTQ ? ":gptq" : "");
        append(buf, cap, part);
    }
    if (r->distill_steps) {
        snprintf(part, sizeof part, "distill:steps=%d", r->distill_steps);
        append(buf, cap, part);
    }
    if (!buf[0])
        snprintf(buf, cap, "fp32");
}
