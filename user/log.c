// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <bpf/libbpf.h>
#include <xdp/libxdp.h>

#include "log.h"

static enum dg_log_level log_level = DG_LOG_INFO;
static dg_log_sink_fn log_sink;
static void *log_sink_arg;
static int libbpf_silenced;

static const char *const level_names[] = {
	[DG_LOG_ERROR] = "error",
	[DG_LOG_WARN] = "warning",
	[DG_LOG_INFO] = "info",
	[DG_LOG_DEBUG] = "debug",
	[DG_LOG_VERBOSE] = "verbose",
};

void log_set_level(enum dg_log_level level)
{
	log_level = level > DG_LOG_VERBOSE ? DG_LOG_VERBOSE : level;
}

enum dg_log_level log_get_level(void)
{
	return log_level;
}

void log_set_sink(dg_log_sink_fn fn, void *arg)
{
	log_sink = fn;
	log_sink_arg = arg;
}

/* syslog(3) priorities, for journald's "<N>" line prefix (sd-daemon(3)). */
static const int level_prio[] = {
	[DG_LOG_ERROR] = 3, [DG_LOG_WARN] = 4, [DG_LOG_INFO] = 6,
	[DG_LOG_DEBUG] = 7, [DG_LOG_VERBOSE] = 7,
};

/* Is stderr the journal's stream (systemd sets JOURNAL_STREAM=DEV:INODE
 * for the service's own stderr)? Then each line starts with its syslog
 * priority, which journald strips and keeps, so `journalctl -p warning`
 * works; and no "dotguard: ", journald names the unit. Asked per line,
 * which costs an fstat: log lines are events, not packets. */
static bool stderr_is_journal(void)
{
	unsigned long long dev, ino;
	const char *e = getenv("JOURNAL_STREAM");
	struct stat st;

	return e && sscanf(e, "%llu:%llu", &dev, &ino) == 2 &&
	       !fstat(STDERR_FILENO, &st) &&
	       (unsigned long long)st.st_dev == dev &&
	       (unsigned long long)st.st_ino == ino;
}

/* loc: length of a "FILE:LINE: " prefix in buf, 0 when there is none. */
static void log_emit(enum dg_log_level level, char *buf, size_t loc)
{
	size_t n = strlen(buf), i;
	char head[16];

	/* One event, one line: library messages often end in '\n', and a
	 * control character inside would split or garble the line. */
	while (n && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		buf[--n] = '\0';
	for (i = 0; i < n; i++)
		if ((unsigned char)buf[i] < 0x20 || buf[i] == 0x7f)
			buf[i] = ' ';
	if (log_sink) {
		log_sink(level, buf, log_sink_arg);
		return;
	}
	/* "FILE:LINE: error: msg" is compiler style, so editors jump to it. */
	if (stderr_is_journal())
		snprintf(head, sizeof(head), "<%d>", level_prio[level]);
	else
		snprintf(head, sizeof(head), "%s", loc ? "" : "dotguard: ");
	fprintf(stderr, "%s%.*s%s: %s\n", head, (int)loc, buf,
		level_names[level], buf + loc);
}

void log_vmsg(enum dg_log_level level, const char *fmt, va_list ap)
{
	char buf[1024];

	if (level > log_level)
		return;
	vsnprintf(buf, sizeof(buf), fmt, ap);
	log_emit(level, buf, 0);
}

void log_vat(enum dg_log_level level, const char *file, unsigned int line,
	     const char *fmt, va_list ap)
{
	char buf[1024];
	int loc;

	if (level > log_level)
		return;
	loc = snprintf(buf, sizeof(buf), "%s:%u: ", file, line);
	if (loc < 0 || (size_t)loc >= sizeof(buf))
		loc = 0;
	else
		vsnprintf(buf + loc, sizeof(buf) - loc, fmt, ap);
	log_emit(level, buf, loc);
}

void log_at(enum dg_log_level level, const char *file, unsigned int line,
	    const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vat(level, file, line, fmt, ap);
	va_end(ap);
}

void log_msg(enum dg_log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(level, fmt, ap);
	va_end(ap);
}

/* A library's warning is detail to our users: our own one-line error
 * says what failed and how to fix it; -v shows the library's story. */
static enum dg_log_level demote(int lib_warn, int lib_info, int level)
{
	if (level == lib_warn)
		return DG_LOG_DEBUG;
	(void)lib_info;
	return DG_LOG_VERBOSE;
}

static int libbpf_print(enum libbpf_print_level level, const char *fmt,
			va_list ap)
{
	if (libbpf_silenced)
		return 0;
	log_vmsg(demote(LIBBPF_WARN, LIBBPF_INFO, level), fmt, ap);
	return 0;
}

static int libxdp_print(enum libxdp_print_level level, const char *fmt,
			va_list ap)
{
	if (libbpf_silenced)
		return 0;
	log_vmsg(demote(LIBXDP_WARN, LIBXDP_INFO, level), fmt, ap);
	return 0;
}

void log_hook_libraries(void)
{
	libbpf_set_print(libbpf_print);
	libxdp_set_print(libxdp_print);
}

void log_libbpf_silence(void)
{
	libbpf_silenced++;
}

void log_libbpf_restore(void)
{
	if (libbpf_silenced)
		libbpf_silenced--;
}
