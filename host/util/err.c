#include "util/err.h"

#include <stdarg.h>
#include <stdio.h>

static _Thread_local char msg[512];

int sq_err(int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    for (char *p = msg; *p; p++)
        if (*p == '\n')
            *p = ' ';
    return code;
}

const char *sq_err_msg(void)
{
    return msg;
}
