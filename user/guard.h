/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Attach, pin and detach the guard. Whoever attaches records it in the
 * pinned dg_attach map; detach removes only what a record proves is ours
 * (same program ID at the recorded place). The pin directory is flocked
 * by `run` for its lifetime and by `detach`, so writers never interleave.
 */
#ifndef DG_GUARD_H
#define DG_GUARD_H

#include <limits.h>
#include <net/if.h>
#include <stdbool.h>

#include "dotguard/abi.h"
#include "config.h"
#include "netlink.h"

/* tc filter identity on clsact egress: fixed, so a restart replaces our
 * own filter atomically (BPF_TC_F_REPLACE) instead of adding a second. */
#define DG_TC_HANDLE 0xd06
#define DG_TC_PRIORITY 1	/* first: an earlier filter's OK would bypass us */

/* One place the guard should run, resolved from the config. */
struct dg_target {
	char ifname[IF_NAMESIZE];
	int ifindex;
	enum dg_hook hook;
	bool l3_only;
	bool lan_port;		/* a GatewayInterface= (for the steer hook) */
};

struct dg_guard {
	char pin_path[PATH_MAX];
	int lock_fd;		/* flock on the pin directory, -1 when not held */
	int policy_fd;		/* pinned dg_policy */
	int attach_fd;		/* pinned dg_attach */
	int counters_fd;	/* pinned dg_counters */
	int own_fd;		/* pinned dg_own_socks, opened on first use */
	bool created_dir;	/* this process made the pin directory */
};

enum dg_attach_state {
	DG_STATE_ATTACHED = 0,	/* our program is where the record says */
	DG_STATE_MISSING,	/* interface or program gone */
	DG_STATE_REPLACED,	/* something else sits in our place */
	DG_STATE_ELSEWHERE,	/* attached in another network namespace:
				 * cannot be seen or removed from here */
};

/* Room for every target of one config: one per attach slot. */
#define DG_TARGETS_MAX DG_MAX_SLOTS

/* Interfaces Interface= matched that found no attach slot left. Each is
 * reported once (one error line) while it stays unguarded. */
struct dg_unguarded {
	int ifindex[DG_MAX_SLOTS];	/* reported and still unguarded */
	int n;
	unsigned int pending;	/* reported, not yet added to a counter */
};

/* What the host holds, for dg_guard_select: a snapshot of its links and
 * of the devices its default routes leave by (dg_nl_default_devs). */
struct dg_host {
	const struct dg_link *links;
	int n_links;
	const int *defaults;	/* ifindexes */
	int n_defaults;
};

/*
 * Pure: the attach points cfg selects on host, into t[max]: Interface=
 * names, GatewayInterface= ports, then the uplinks kept[n_kept] (those
 * guarded so far, found again by name), then every other link a glob or
 * auto matches (dg_config_iface_match). Uplinks get the slots left once
 * the gateway ports and redirect mode's own points have theirs; a match
 * past that is logged (one error line naming it) and noted in *ug, never
 * a failure. kept == NULL: at start or reload, where a name that does not
 * exist is an error (FILE:LINE); otherwise it is skipped with a warning,
 * guarded again once it is back. A kept uplink that no longer matches
 * stays (until a reload); one that is gone is forgotten. Returns the
 * count, or -errno after one logged line.
 */
int dg_guard_select(const struct dg_config *cfg, const struct dg_host *host,
		    const struct dg_target *kept, int n_kept,
		    struct dg_target *t, int max, struct dg_unguarded *ug);

/*
 * dg_guard_select on this host's links and default routes now, as at
 * start or reload (kept: none). Touches nothing. Returns the count, or
 * -errno after one logged line.
 */
int dg_guard_targets(const struct dg_config *cfg, struct dg_target *t,
		     int max, struct dg_unguarded *ug);

/* The same after link or route changes: old[] (the targets applied so
 * far) are kept, found again by name (an interface re-created has a new
 * index). Returns how many, or -errno. */
int dg_guard_targets_refresh(const struct dg_config *cfg,
			     const struct dg_target *old, int n_old,
			     struct dg_target *t, int max,
			     struct dg_unguarded *ug);

/* Zero the handle (all fds -1). */
void dg_guard_init(struct dg_guard *g, const char *pin_path);

/*
 * Create the pin directory if asked (mounting bpffs on /sys/fs/bpf when it
 * is bare, as in `ip netns exec`), then take the flock without waiting.
 * Returns 0, -ENOENT (no pin dir and !create), -EBUSY (another dotguard
 * holds it), or -errno; each logged in one line.
 */
int dg_guard_lock(struct dg_guard *g, bool create);

/*
 * Make the kernel match cfg: policy first, then one program per target,
 * then remove attach points no longer wanted. replace: load a fresh copy
 * even where ours is in place (at startup, the binary may be newer);
 * otherwise (reload) keep programs that are where their record says.
 * Must hold the lock. Returns 0 or -errno (logged).
 */
int dg_guard_apply(struct dg_guard *g, const struct dg_config *cfg,
		   const struct dg_target *t, int n, bool replace);

/* After link events: attach to every present target that lacks our
 * program (an interface re-created, or back), and detach nothing: a
 * missing or renamed interface keeps its record, and the program stays
 * on a renamed one. */
int dg_guard_reguard(struct dg_guard *g, const struct dg_config *cfg,
		     const struct dg_target *t, int n);

/* Remove every recorded program (after checking it is ours) and every pin,
 * then the pin directory. Must hold the lock. Refuses with -EXDEV, and
 * removes nothing, when a program was attached in another network
 * namespace: from here it can be neither seen nor removed, and without its
 * pins nothing could ever remove it. Returns 0 or -errno. */
int dg_guard_detach(struct dg_guard *g);

/*
 * Let the socket fd send port-53 traffic past the guard: its cookie goes
 * in dg_own_socks and the policy learns that cookies exist. Never by
 * address or port. Returns 0 or -errno.
 */
int dg_guard_allow_socket(struct dg_guard *g, int fd);
/* Take a closed socket's cookie off the list. */
void dg_guard_forget_socket(struct dg_guard *g, __u64 cookie);

/* After a failed first start: remove the pin directory if this process
 * created it and it is still empty, so a refused start leaves no trace. */
void dg_guard_abandon(struct dg_guard *g);

/* Release the lock and the map fds. */
void dg_guard_close(struct dg_guard *g);

/* Point the tc guard's redirect at the capture veth's near end (0: none,
 * redirects then fail closed); tcp_steer: TCP/53 steering is in place
 * there, so the capture end lets TCP through to it. */
int dg_guard_set_capture(struct dg_guard *g, int ifindex, bool tcp_steer);

/* Put a listening socket in the pinned dg_listen at key (DG_LISTEN_*). */
int dg_guard_set_listener(struct dg_guard *g, __u32 key, int fd);

/* A new fd of the pinned XSKMAP (the caller closes it), or -1 (errno). */
int dg_guard_xsks_fd(struct dg_guard *g);

/* The slot of the attach point (ifindex, hook): the XSKMAP key base. */
int dg_guard_slot_of(struct dg_guard *g, int ifindex, enum dg_hook hook, __u32 *slot);

/* Read the attach records from the pinned map. */
int dg_guard_read_attach(const char *pin_path, struct dg_attach rec[DG_MAX_SLOTS]);

/* Is the recorded program still in place? Queries the kernel. */
enum dg_attach_state dg_guard_state(const struct dg_attach *rec);

const char *dg_hook_name(enum dg_hook hook);
const char *dg_state_name(enum dg_attach_state state);

#endif /* DG_GUARD_H */
