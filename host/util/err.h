/* Error reporting for library code: functions return a negative code and leave
 * a one-line message here; only the CLI prints it and chooses the exit code. */
#ifndef SQ_ERR_H
#define SQ_ERR_H

#define SQ_ERR_ARG  (-2) /* bad argument or flag: the CLI exits 2 */
#define SQ_ERR_IO   (-3) /* missing or unreadable file */
#define SQ_ERR_FMT  (-4) /* corrupt or inconsistent file contents */
#define SQ_ERR_MEM  (-5) /* allocation failed */
#define SQ_ERR_DEV  (-6) /* device or level unavailable or failed */
#define SQ_ERR_MISMATCH (-7) /* a level disagreed with the golden reference */

/* Records a printf-style message (truncated to one line of 512 bytes) and
 * returns code, so callers can write `return sq_err(SQ_ERR_FMT, ...)`. The
 * arguments may include sq_err_msg() to add context to the last message. */
int sq_err(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The last message recorded on this thread ("" if none). */
const char *sq_err_msg(void);

#endif
