// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "config.h"
#include "counters.h"
#include "daemon.h"
#include "guard.h"
#include "log.h"
#include "query.h"
#include "doctor.h"
#include "status.h"
#include "tls.h"

enum dg_opt_id {
	OPT_CONFIG,
	OPT_VERBOSE,
	OPT_JSON,
	OPT_PROMETHEUS,
	OPT_HELP,
	OPT_MAX
};

struct dg_opt {
	const char *name;
	int short_name;		/* 0: long form only */
	const char *arg;	/* NULL: a flag */
	const char *doc;
};

static const struct dg_opt options[OPT_MAX] = {
	[OPT_CONFIG] = { "config", 'c', "FILE",
			 "config file (default " DG_CONFIG_PATH_DEFAULT ")" },
	[OPT_VERBOSE] = { "verbose", 'v', NULL, "one line per query; twice: per packet too" },
	[OPT_JSON] = { "json", 0, NULL, "print JSON for scripts" },
	[OPT_PROMETHEUS] = { "prometheus", 0, NULL,
			     "print the Prometheus text exposition format" },
	[OPT_HELP] = { "help", 'h', NULL, "show this help" },
};

struct dg_args {
	const char *config;	/* NULL: the default path */
	int verbose;
	bool json;
	bool prometheus;
	int npos;
	char **pos;
};

struct dg_cmd {
	const char *name;
	int (*run)(const struct dg_args *a);
	unsigned int opts;	/* 1u << OPT_* this command takes */
	int max_pos;		/* positional arguments allowed */
	const char *doc;
};

#define COMMON ((1u << OPT_CONFIG) | (1u << OPT_VERBOSE) | (1u << OPT_HELP))

static int cmd_help(const struct dg_args *a);

/* Load the config for PinPath=; errors are already logged line by line. */
static struct dg_config *load_config(const struct dg_args *a)
{
	struct dg_config *cfg = calloc(1, sizeof(*cfg));
	int err;

	if (!cfg) {
		log_error("out of memory");
		return NULL;
	}
	err = dg_config_load(cfg, a->config);
	if (err) {
		if (err > 0)
			log_error("%s: %d error%s", cfg->source[0] ? cfg->source : a->config,
				  err, err == 1 ? "" : "s");
		free(cfg);
		return NULL;
	}
	return cfg;
}

static int cmd_run(const struct dg_args *a)
{
	return dg_daemon_run(a->config) ? DG_EXIT_FAIL : DG_EXIT_OK;
}

static int cmd_status(const struct dg_args *a)
{
	enum dg_status_format fmt = DG_STATUS_TEXT;
	struct dg_snapshot *s;
	struct dg_config *cfg;
	int err, ret = DG_EXIT_FAIL;

	if (a->json && a->prometheus) {
		log_error("status: choose one of --json and --prometheus");
		return DG_EXIT_USAGE;
	}
	if (a->json)
		fmt = DG_STATUS_JSON;
	else if (a->prometheus)
		fmt = DG_STATUS_PROMETHEUS;

	cfg = load_config(a);
	if (!cfg)
		return DG_EXIT_FAIL;
	s = calloc(1, sizeof(*s));
	if (!s) {
		log_error("out of memory");
		goto out;
	}
	err = dg_counters_read(cfg->pin_path, s);
	if (err == -ENOENT)
		log_error("no guard pinned at %s: start it with 'dotguard run'",
			  cfg->pin_path);
	else if (err)
		log_error("reading the maps pinned at %s: %s", cfg->pin_path,
			  strerror(-err));
	else {
		dg_status_render(stdout, s, cfg->pin_path, fmt);
		ret = fflush(stdout) ? DG_EXIT_FAIL : DG_EXIT_OK;
	}
out:
	free(s);
	free(cfg);
	return ret;
}

static int cmd_detach(const struct dg_args *a)
{
	struct dg_config *cfg;
	struct dg_guard g;
	int err, ret = DG_EXIT_FAIL;

	cfg = load_config(a);
	if (!cfg)
		return DG_EXIT_FAIL;
	dg_guard_init(&g, cfg->pin_path);
	err = dg_guard_lock(&g, false);
	if (err == -ENOENT) {
		log_info("nothing to detach: no pins at %s", cfg->pin_path);
		ret = DG_EXIT_OK;
	} else if (!err && !dg_guard_detach(&g)) {
		log_info("guard lifted: programs detached and %s removed",
			 cfg->pin_path);
		ret = DG_EXIT_OK;
	}
	dg_guard_close(&g);
	free(cfg);
	return ret;
}

static int cmd_check_config(const struct dg_args *a)
{
	struct dg_config *cfg = load_config(a);
	struct dg_tls_ctx *ctx = NULL;

	if (!cfg)
		return DG_EXIT_FAIL;
	/* Not the parser's business (it never asks the host), but run
	 * refuses a User= written in the file that does not exist here,
	 * so a file checked ok must not fail there. */
	if (cfg->user_set && !getpwnam(cfg->user)) {
		log_at(DG_LOG_ERROR, cfg->source, cfg->user_line,
		       "User=%s: no such user on this host; 'run' would refuse to start",
		       cfg->user);
		free(cfg);
		return DG_EXIT_FAIL;
	}
	/* The same for a CAFile= this host cannot load: the pool would not
	 * start (or a reload would be refused). */
	if (cfg->ca_file_line && cfg->dot != DG_DOT_OPPORTUNISTIC &&
	    !(ctx = dg_tls_ctx_new(cfg->ca_file, true))) {
		log_at(DG_LOG_ERROR, cfg->source, cfg->ca_file_line,
		       "CAFile=%s: cannot be loaded here (above); 'run' would refuse it",
		       cfg->ca_file);
		free(cfg);
		return DG_EXIT_FAIL;
	}
	dg_tls_ctx_free(ctx);
	printf("%s: ok (%d DNS, %d fallback, DNSOverTLS=%s, Mode=%s)\n",
	       cfg->source[0] ? cfg->source : "built-in defaults", cfg->n_dns,
	       cfg->n_fallback, dg_dot_name(cfg->dot), dg_mode_name(cfg->mode));
	free(cfg);
	return DG_EXIT_OK;
}

static int cmd_query(const struct dg_args *a)
{
	struct dg_config *cfg;
	int err;

	if (a->npos < 1) {
		log_error("query: which name? (dotguard query NAME [TYPE])");
		return DG_EXIT_USAGE;
	}
	cfg = load_config(a);
	if (!cfg)
		return DG_EXIT_FAIL;
	err = dg_query_run(cfg, a->pos[0], a->npos > 1 ? a->pos[1] : NULL);
	free(cfg);
	return err ? DG_EXIT_FAIL : DG_EXIT_OK;
}

static int cmd_doctor(const struct dg_args *a)
{
	struct dg_config *cfg = load_config(a);
	int failed;

	if (!cfg)
		return DG_EXIT_FAIL;
	failed = dg_doctor_run(cfg);
	free(cfg);
	return failed ? DG_EXIT_FAIL : DG_EXIT_OK;
}

static const struct dg_cmd commands[] = {
	{ "run", cmd_run, COMMON, 0,
	  "attach the guard, pin it, serve; SIGHUP reloads; the guard stays after exit" },
	{ "status", cmd_status,
	  COMMON | (1u << OPT_JSON) | (1u << OPT_PROMETHEUS), 0,
	  "counters per interface, reason and action, from the pinned maps" },
	{ "query", cmd_query, COMMON, 2,
	  "NAME [TYPE]: resolve through the running daemon; show answer, upstream, latency, cache" },
	{ "detach", cmd_detach, COMMON, 0,
	  "remove the programs and pins: the only way to lift the guard" },
	{ "check-config", cmd_check_config, COMMON, 0,
	  "parse and validate the config; every error names FILE:LINE" },
	{ "doctor", cmd_doctor, COMMON, 0,
	  "check upstreams (TCP 853, chain, name, pin), the clock, resolv.conf, the guard" },
	{ "help", cmd_help, 1u << OPT_HELP, 0, "list the commands" },
};

#define N_COMMANDS (sizeof(commands) / sizeof(commands[0]))

static int cmd_help(const struct dg_args *a)
{
	size_t i;

	(void)a;
	printf("usage: dotguard COMMAND [OPTIONS]\n\n"
	       "Makes plaintext DNS impossible to leak; sends it over DNS-over-TLS.\n\n"
	       "commands:\n");
	for (i = 0; i < N_COMMANDS; i++)
		printf("  %-14s %s\n", commands[i].name, commands[i].doc);
	printf("\n'dotguard COMMAND --help' shows a command's options.\n");
	return DG_EXIT_OK;
}

static void cmd_usage(FILE *out, const struct dg_cmd *cmd)
{
	char form[64];
	int i;

	fprintf(out, "usage: dotguard %s [OPTIONS]\n%s\n\noptions:\n", cmd->name,
		cmd->doc);
	for (i = 0; i < OPT_MAX; i++) {
		if (!(cmd->opts & (1u << i)))
			continue;
		snprintf(form, sizeof(form), "%s%c%s--%s%s%s",
			 options[i].short_name ? "-" : "",
			 options[i].short_name ? options[i].short_name : ' ',
			 options[i].short_name ? ", " : "  ", options[i].name,
			 options[i].arg ? " " : "", options[i].arg ? options[i].arg : "");
		fprintf(out, "  %-22s %s\n", form + !options[i].short_name,
			options[i].doc);
	}
}

/* getopt_long tables built from the command's option set. */
static int parse_args(const struct dg_cmd *cmd, int argc, char **argv,
		      struct dg_args *a)
{
	struct option longopts[OPT_MAX + 1] = {};
	/* Options may follow positionals: `query NAME -c FILE`. */
	char shortopts[2 * OPT_MAX + 1] = "";
	int i, n = 0, c, s = 0;

	for (i = 0; i < OPT_MAX; i++) {
		if (!(cmd->opts & (1u << i)))
			continue;
		longopts[n].name = options[i].name;
		longopts[n].has_arg = options[i].arg ? required_argument : no_argument;
		longopts[n].val = options[i].short_name ? options[i].short_name : 256 + i;
		n++;
		if (options[i].short_name) {
			shortopts[s++] = options[i].short_name;
			if (options[i].arg)
				shortopts[s++] = ':';
		}
	}
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
		switch (c) {
		case 'c':
			a->config = optarg;
			break;
		case 'v':
			a->verbose++;
			break;
		case 'h':
			cmd_usage(stdout, cmd);
			return 1;
		case 256 + OPT_JSON:
			a->json = true;
			break;
		case 256 + OPT_PROMETHEUS:
			a->prometheus = true;
			break;
		default:
			log_error("%s: unknown or incomplete option '%s' (see 'dotguard %s --help')",
				  cmd->name, argv[optind - 1], cmd->name);
			return -1;
		}
	}
	a->npos = argc - optind;
	a->pos = argv + optind;
	if (a->npos > cmd->max_pos) {
		log_error("%s: unexpected argument '%s' (see 'dotguard %s --help')",
			  cmd->name, a->pos[0], cmd->name);
		return -1;
	}
	return 0;
}

int dg_cli_main(int argc, char **argv)
{
	struct dg_args a = {};
	size_t i;
	int ret;

	if (argc < 2) {
		cmd_help(&a);
		return DG_EXIT_USAGE;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))
		return cmd_help(&a);
	for (i = 0; i < N_COMMANDS; i++)
		if (!strcmp(argv[1], commands[i].name))
			break;
	if (i == N_COMMANDS) {
		log_error("unknown command '%s' (see 'dotguard help')", argv[1]);
		return DG_EXIT_USAGE;
	}
	ret = parse_args(&commands[i], argc - 1, argv + 1, &a);
	if (ret)
		return ret > 0 ? DG_EXIT_OK : DG_EXIT_USAGE;
	log_set_level(DG_LOG_INFO + a.verbose);
	log_hook_libraries();
	return commands[i].run(&a);
}
