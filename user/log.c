// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <stdio.h>
#include <string.h>
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

void log_vmsg(enum dg_log_level level, const char *fmt, va_list ap)
{
	char buf[1024];
	size_t n;

	if (level > log_level)
		return;
	vsnprintf(buf, sizeof(buf), fmt, ap);
	/* One event, one line: library messages often end in '\n'. */
	n = strlen(buf);
	while (n && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		buf[--n] = '\0';
	if (log_sink) {
		log_sink(level, buf, log_sink_arg);
		return;
	}
	if (level <= DG_LOG_WARN)
		fprintf(stderr, "dotguard: %s: %s\n", level_names[level], buf);
	else
		fprintf(stderr, "dotguard: %s\n", buf);
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
