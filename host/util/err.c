#include "util/err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static _Thread_local char msg[512];

int sq_err(int code, const char *fmt, ...)
{
    /* Formatted apart from msg, then copied: callers may pass sq_err_msg()
     * (the last message) as an argument to wrap it with context, and
     * vsnprintf into the buffer it reads from is undefined behaviour. */
    char buf[sizeof msg];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    for (char *p = buf; *p; p++)
        if (*p == '\n')
            *p = ' ';
    memcpy(msg, buf, sizeof msg);
    return code;
}

const char *sq_err_msg(void)
{
    return msg;
}
