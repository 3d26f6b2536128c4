/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * One leveled logger for dotguard and the libraries it drives.
 * Messages are one line each, on stderr, with their level:
 * "dotguard: warning: msg", or "FILE:LINE: error: msg" about a config
 * line. When stderr is the journal (a systemd service) each line starts
 * with its syslog priority instead ("<4>warning: msg"), so journald keeps
 * the level. libbpf, libxdp and wolfSSL are routed here too: their
 * warnings show with -v, the rest with -vv, so by default a failure is
 * our one line, not a library dump.
 */
#ifndef DG_LOG_H
#define DG_LOG_H

#include <stdarg.h>

enum dg_log_level {
	DG_LOG_ERROR = 0,	/* always shown */
	DG_LOG_WARN,		/* always shown */
	DG_LOG_INFO,		/* default: events (start, reload, upstream down) */
	DG_LOG_DEBUG,		/* -v: also one line per query, per connection */
	DG_LOG_VERBOSE,		/* -vv: also per packet, and library detail */
};

/* Where messages go; tests install their own to capture exact text. */
typedef void (*dg_log_sink_fn)(enum dg_log_level level, const char *msg,
			       void *arg);

/* Show messages at level or more important. Default DG_LOG_INFO. */
void log_set_level(enum dg_log_level level);
enum dg_log_level log_get_level(void);
/* NULL restores the stderr sink. */
void log_set_sink(dg_log_sink_fn fn, void *arg);

void log_msg(enum dg_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void log_vmsg(enum dg_log_level level, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));

/*
 * A diagnostic about a place in a file, compiler-style, so editors and
 * scripts can jump to it: "FILE:LINE: error: msg" or "FILE:LINE: warning:
 * msg" on stderr. A sink receives "FILE:LINE: msg" at the given level.
 */
void log_at(enum dg_log_level level, const char *file, unsigned int line,
	    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
void log_vat(enum dg_log_level level, const char *file, unsigned int line,
	     const char *fmt, va_list ap) __attribute__((format(printf, 4, 0)));

#define log_error(...) log_msg(DG_LOG_ERROR, __VA_ARGS__)
#define log_warn(...) log_msg(DG_LOG_WARN, __VA_ARGS__)
#define log_info(...) log_msg(DG_LOG_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(DG_LOG_DEBUG, __VA_ARGS__)
#define log_verbose(...) log_msg(DG_LOG_VERBOSE, __VA_ARGS__)

/* Route libbpf and libxdp output through this logger (see above). */
void log_hook_libraries(void);
/* Silence libbpf and libxdp around probes that are expected to fail;
 * calls nest, each silence needs a restore. */
void log_libbpf_silence(void);
void log_libbpf_restore(void);

#endif /* DG_LOG_H */
