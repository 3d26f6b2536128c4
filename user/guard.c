// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <net/if.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/magic.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <xdp/libxdp.h>

#include "dotguard/pins.h"
#include "redirect.h"
#include "guard.h"
#include "loader.h"
#include "log.h"
#include "netlink.h"

#define BPFFS_DEFAULT "/sys/fs/bpf"

const char *dg_hook_name(enum dg_hook hook)
{
	switch (hook) {
	case DG_HOOK_TC_EGRESS:
		return "tc-egress";
	case DG_HOOK_XDP_GATEWAY:
		return "xdp-gateway";
	case DG_HOOK_XDP_CAPTURE:
		return "xdp-capture";
	case DG_HOOK_TC_STEER:
		return "tc-steer";
	default:
		return "unknown";
	}
}

const char *dg_state_name(enum dg_attach_state state)
{
	static const char *const names[] = {
		[DG_STATE_ATTACHED] = "attached",
		[DG_STATE_MISSING] = "missing",
		[DG_STATE_REPLACED] = "replaced",
		[DG_STATE_ELSEWHERE] = "other-netns",
	};

	return state <= DG_STATE_ELSEWHERE ? names[state] : "unknown";
}

/* One attach point on link; a LAN port must have an Ethernet header. */
static int target_add(struct dg_target *t, int n, int max,
		      const struct dg_link *link, enum dg_hook hook)
{
	if (n >= max) {
		log_error("interface %s: more than %d attach points", link->ifname, max);
		return -E2BIG;
	}
	memset(&t[n], 0, sizeof(t[n]));
	snprintf(t[n].ifname, sizeof(t[n].ifname), "%s", link->ifname);
	t[n].ifindex = link->ifindex;
	t[n].hook = hook;
	t[n].l3_only = dg_link_is_l3(link);
	if (t[n].l3_only && hook == DG_HOOK_XDP_GATEWAY) {
		log_error("interface %s: has no Ethernet header; GatewayInterface= needs an Ethernet LAN port",
			  link->ifname);
		return -EINVAL;
	}
	return n + 1;
}

static const struct dg_link *host_link(const struct dg_host *h, const char *ifname)
{
	int i;

	for (i = 0; i < h->n_links; i++)
		if (!strncmp(h->links[i].ifname, ifname, sizeof(h->links[i].ifname)))
			return &h->links[i];
	return NULL;
}

static bool host_default(const struct dg_host *h, int ifindex)
{
	int i;

	for (i = 0; i < h->n_defaults; i++)
		if (h->defaults[i] == ifindex)
			return true;
	return false;
}

static bool target_has(const struct dg_target *t, int n, const char *ifname,
		       int ifindex)
{
	int i;

	for (i = 0; i < n; i++)
		if (t[i].ifindex == ifindex || !strcmp(t[i].ifname, ifname))
			return true;
	return false;
}

/* Slots an uplink may take: the rest are the gateway ports' and, in
 * redirect mode, their steering points' and the capture pair's two. */
static int uplink_room(const struct dg_config *cfg, int max)
{
	bool redirect = cfg->mode == DG_MODE_REDIRECT;

	if (max > DG_TARGETS_MAX)
		max = DG_TARGETS_MAX;
	return max - cfg->n_gw_ifaces * (redirect ? 2 : 1) - (redirect ? 2 : 0);
}

/* A match with no slot left: one error line the first time, and noted in
 * now (bounded: one past DG_MAX_SLOTS is reported each time it is seen). */
static void unguarded_note(struct dg_unguarded *ug, struct dg_unguarded *now,
			   const struct dg_link *link)
{
	int i;

	for (i = 0; ug && i < ug->n; i++)
		if (ug->ifindex[i] == link->ifindex)
			break;
	if (!ug || i == ug->n) {
		log_error("interface %s: matches Interface= but is NOT guarded: no attach slot left (at most %d); narrow Interface=",
			  link->ifname, DG_MAX_SLOTS);
		if (ug)
			ug->pending++;
	}
	if (now->n < DG_MAX_SLOTS)
		now->ifindex[now->n++] = link->ifindex;
}

/* Interface= as written, for messages: "auto wg* ppp*". */
static const char *iface_list_str(const struct dg_config *cfg, char *buf, size_t size)
{
	size_t len = 0;
	int i, w;

	buf[0] = '\0';
	if (dg_config_iface_auto(cfg))
		len = (size_t)snprintf(buf, size, "auto");
	for (i = 0; i < cfg->n_ifaces && len < size; i++) {
		w = snprintf(buf + len, size - len, "%s%s", len ? " " : "",
			     cfg->ifaces[i]);
		if (w < 0)
			break;
		len += (size_t)w;
	}
	return buf;
}

/* A name Interface= or GatewayInterface= gives that is not here. */
static int select_missing(const struct dg_config *cfg, const char *key,
			  const char *ifname, unsigned int line, bool start)
{
	if (!start) {
		log_warn("interface %s is gone: guarded again as soon as it is back",
			 ifname);
		return 0;
	}
	if (line)
		log_at(DG_LOG_ERROR, cfg->source, line,
		       "%s=%s: no such interface in this network namespace (see 'ip link'; a pattern such as '%.14s*' would wait for it)",
		       key, ifname, ifname);
	else
		log_error("%s=%s: no such interface in this network namespace",
			  key, ifname);
	return -ENODEV;
}

/* One more uplink while a slot is left for it (up counts them), else it
 * is noted unguarded. Returns the target count or -errno. */
static int select_uplink(struct dg_target *t, int n, int max,
			 const struct dg_link *link, int room, int *up,
			 struct dg_unguarded *ug, struct dg_unguarded *now)
{
	if (*up >= room) {
		unguarded_note(ug, now, link);
		return n;
	}
	n = target_add(t, n, max, link, DG_HOOK_TC_EGRESS);
	if (n >= 0)
		(*up)++;
	return n;
}

int dg_guard_select(const struct dg_config *cfg, const struct dg_host *host,
		    const struct dg_target *kept, int n_kept,
		    struct dg_target *t, int max, struct dg_unguarded *ug)
{
	struct dg_unguarded now = { .n = 0 };
	int room = uplink_room(cfg, max), n = 0, up = 0, added, i, err;
	const struct dg_link *link;
	enum dg_iface_match m;
	bool start = !kept;
	char buf[256];

	for (i = 0; i < cfg->n_ifaces; i++) {
		if (dg_config_is_glob(cfg->ifaces[i]))
			continue;
		link = host_link(host, cfg->ifaces[i]);
		if (!link) {
			err = select_missing(cfg, "Interface", cfg->ifaces[i],
					     cfg->iface_line[i], start);
			if (err)
				return err;
			continue;
		}
		if (up >= room) {
			log_error("Interface=%s: no attach slot left (at most %d)",
				  cfg->ifaces[i], DG_MAX_SLOTS);
			return -E2BIG;
		}
		n = target_add(t, n, max, link, DG_HOOK_TC_EGRESS);
		if (n < 0)
			return n;
		up++;
	}
	for (i = 0; i < cfg->n_gw_ifaces; i++) {
		link = host_link(host, cfg->gw_ifaces[i]);
		if (!link) {
			err = select_missing(cfg, "GatewayInterface",
					     cfg->gw_ifaces[i], cfg->gw_line[i], start);
			if (err)
				return err;
			continue;
		}
		n = target_add(t, n, max, link, DG_HOOK_XDP_GATEWAY);
		if (n < 0)
			return n;
	}
	/* Guarded before: kept while it exists, matching or not. */
	for (i = 0; i < n_kept; i++) {
		if (kept[i].hook != DG_HOOK_TC_EGRESS)
			continue;
		link = host_link(host, kept[i].ifname);
		if (!link || target_has(t, n, link->ifname, link->ifindex))
			continue;
		n = select_uplink(t, n, max, link, room, &up, ug, &now);
		if (n < 0)
			return n;
	}
	for (i = 0; i < host->n_links; i++) {
		link = &host->links[i];
		m = dg_config_iface_match(cfg, link->ifname,
					  host_default(host, link->ifindex));
		if ((m != DG_IFACE_GLOB && m != DG_IFACE_AUTO) ||
		    target_has(t, n, link->ifname, link->ifindex))
			continue;
		added = up;
		n = select_uplink(t, n, max, link, room, &up, ug, &now);
		if (n < 0)
			return n;
		if (up > added)
			log_info("interface %s: guarded: %s", link->ifname,
				 m == DG_IFACE_GLOB ? "its name matches a pattern in Interface=" :
						      "it holds a default route (Interface=auto)");
	}
	if (start && !up && dg_config_host_mode(cfg))
		log_info("Interface=%s matches no interface yet: each is guarded as soon as it appears or gains a default route",
			 iface_list_str(cfg, buf, sizeof(buf)));
	if (ug) {
		memcpy(ug->ifindex, now.ifindex, sizeof(now.ifindex[0]) * (size_t)now.n);
		ug->n = now.n;
	}
	return n;
}

/* The default routes' devices past this many are not followed (warned). */
#define HOST_DEFAULTS_MAX 256

/* Select on this host now: its links, and its default routes when auto
 * is in effect (only then: a router's full table costs a dump). */
static int guard_select_here(const struct dg_config *cfg,
			     const struct dg_target *kept, int n_kept,
			     struct dg_target *t, int max, struct dg_unguarded *ug)
{
	struct dg_host host = { .n_links = 0 };
	struct dg_link *links = NULL;
	int *defaults = NULL, n;

	n = dg_nl_link_dump(&links);
	if (n < 0) {
		log_error("listing the interfaces (netlink): %s", strerror(-n));
		return n;
	}
	host.links = links;
	host.n_links = n;
	if (dg_config_iface_auto(cfg)) {
		defaults = calloc(HOST_DEFAULTS_MAX, sizeof(*defaults));
		n = defaults ? dg_nl_default_devs(defaults, HOST_DEFAULTS_MAX) : -ENOMEM;
		if (n < 0) {
			log_error("reading the default routes (netlink): %s", strerror(-n));
			goto out;
		}
		if (n > HOST_DEFAULTS_MAX) {
			log_warn("more than %d interfaces hold a default route: only %d are followed",
				 HOST_DEFAULTS_MAX, HOST_DEFAULTS_MAX);
			n = HOST_DEFAULTS_MAX;
		}
		host.defaults = defaults;
		host.n_defaults = n;
	}
	n = dg_guard_select(cfg, &host, kept, n_kept, t, max, ug);
out:
	free(defaults);
	free(links);
	return n;
}

int dg_guard_targets_refresh(const struct dg_config *cfg,
			     const struct dg_target *old, int n_old,
			     struct dg_target *t, int max,
			     struct dg_unguarded *ug)
{
	static const struct dg_target none;

	/* kept must not be NULL here: NULL means "at start". */
	return guard_select_here(cfg, n_old ? old : &none, n_old, t, max, ug);
}

int dg_guard_targets(const struct dg_config *cfg, struct dg_target *t,
		     int max, struct dg_unguarded *ug)
{
	return guard_select_here(cfg, NULL, 0, t, max, ug);
}

void dg_guard_init(struct dg_guard *g, const char *pin_path)
{
	memset(g, 0, sizeof(*g));
	snprintf(g->pin_path, sizeof(g->pin_path), "%s", pin_path);
	g->lock_fd = g->policy_fd = g->attach_fd = g->counters_fd = -1;
	g->own_fd = -1;
}

/* This process's network namespace, as the inode of its nsfs file (what
 * `ip netns identify` and "net:[N]" in /proc name); 0 if unknown. */
static __u32 netns_self(void)
{
	struct stat st;

	return stat("/proc/self/ns/net", &st) ? 0 : (__u32)st.st_ino;
}

/* Was rec attached in a network namespace other than ours? An old record
 * (0) is taken as ours, as before it was recorded. */
static bool rec_elsewhere(const struct dg_attach *rec)
{
	__u32 self = netns_self();

	return rec->netns_ino && self && rec->netns_ino != self;
}

static bool on_bpffs(const char *path)
{
	struct statfs st;

	return statfs(path, &st) == 0 && st.f_type == BPF_FS_MAGIC;
}

/* The pin directory's parent must be a BPF filesystem. A bare
 * /sys/fs/bpf (a fresh `ip netns exec` has one) is mounted, as bpftool
 * and libxdp do; anything else is the user's to mount. */
static int pin_dir_prepare(const char *pin_path)
{
	char parent[PATH_MAX];
	char *slash;

	snprintf(parent, sizeof(parent), "%s", pin_path);
	slash = strrchr(parent, '/');
	if (!slash || slash == parent) {
		log_error("PinPath=%s: must be a directory inside a BPF filesystem, like %s/dotguard",
			  pin_path, BPFFS_DEFAULT);
		return -EINVAL;
	}
	*slash = '\0';
	if (!on_bpffs(parent)) {
		if (strcmp(parent, BPFFS_DEFAULT) ||
		    mount("bpf", BPFFS_DEFAULT, "bpf", 0, "mode=0700")) {
			log_error("PinPath=%s: %s is not a BPF filesystem: mount one with 'mount -t bpf bpf %s'",
				  pin_path, parent, parent);
			return -ENOTDIR;
		}
		log_info("mounted a BPF filesystem on %s", BPFFS_DEFAULT);
	}
	/* 1: we made the directory, so a failed first start removes it. */
	if (!mkdir(pin_path, 0700))
		return 1;
	if (errno != EEXIST) {
		log_error("PinPath=%s: cannot create: %s%s", pin_path, strerror(errno),
			  errno == EACCES || errno == EPERM ? " (run as root)" : "");
		return -errno;
	}
	return 0;
}

int dg_guard_lock(struct dg_guard *g, bool create)
{
	int err;

	if (create) {
		err = pin_dir_prepare(g->pin_path);
		if (err < 0)
			return err;
		g->created_dir = err == 1;
	}
	g->lock_fd = open(g->pin_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (g->lock_fd < 0) {
		err = -errno;
		if (err != -ENOENT)
			log_error("PinPath=%s: %s", g->pin_path, strerror(-err));
		return err;
	}
	if (flock(g->lock_fd, LOCK_EX | LOCK_NB)) {
		err = errno == EWOULDBLOCK ? -EBUSY : -errno;
		if (err == -EBUSY)
			log_error("PinPath=%s is held by another dotguard (a running 'dotguard run'?): stop it first",
				  g->pin_path);
		else
			log_error("PinPath=%s: lock: %s", g->pin_path, strerror(-err));
		close(g->lock_fd);
		g->lock_fd = -1;
		return err;
	}
	return 0;
}

/* dir/name into out; -ENAMETOOLONG rather than a truncated path. */
static int path_join(char *out, size_t size, const char *dir, const char *name)
{
	int n = snprintf(out, size, "%s/%s", dir, name);

	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

static int pin_get(const char *pin_path, const char *name)
{
	char path[PATH_MAX];

	if (path_join(path, sizeof(path), pin_path, name)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return bpf_obj_get(path);
}

/* Load (never attach) a tc guard once so libbpf creates or reuses every
 * pinned map, then hold the maps the daemon writes. */
static int guard_maps_open(struct dg_guard *g)
{
	struct dg_prog_cfg pc = {};
	struct dg_tc *skel;
	int err;

	if (g->policy_fd >= 0)
		return 0;
	err = dg_loader_tc(&pc, g->pin_path, &skel);
	if (err)
		return err;
	dg_tc__destroy(skel);
	g->policy_fd = pin_get(g->pin_path, DG_PIN_POLICY);
	g->attach_fd = pin_get(g->pin_path, DG_PIN_ATTACH);
	g->counters_fd = pin_get(g->pin_path, DG_PIN_COUNTERS);
	if (g->policy_fd < 0 || g->attach_fd < 0 || g->counters_fd < 0) {
		err = -errno;
		log_error("PinPath=%s: pinned maps missing after load: %s",
			  g->pin_path, strerror(-err));
		return err;
	}
	return 0;
}

/* Mode comes from the config; flags and the redirect target belong to
 * the running daemon's sockets, so a reload keeps them. */
static int guard_write_policy(struct dg_guard *g, const struct dg_config *cfg)
{
	struct dg_policy pol = {};
	__u32 zero = 0;

	if (bpf_map_lookup_elem(g->policy_fd, &zero, &pol))
		memset(&pol, 0, sizeof(pol));
	pol.mode = cfg->mode;
	if (bpf_map_update_elem(g->policy_fd, &zero, &pol, BPF_ANY)) {
		log_error("writing the policy map: %s", strerror(errno));
		return -errno;
	}
	return 0;
}

int dg_guard_xsks_fd(struct dg_guard *g)
{
	return pin_get(g->pin_path, DG_PIN_XSKS);
}

int dg_guard_set_listener(struct dg_guard *g, __u32 key, int fd)
{
	__u64 value = (__u64)fd;
	int map = pin_get(g->pin_path, DG_PIN_LISTEN), err = 0;

	if (map < 0 || bpf_map_update_elem(map, &key, &value, BPF_ANY)) {
		err = -errno;
		log_error("putting the TCP/53 listener in %s/%s: %s", g->pin_path,
			  DG_PIN_LISTEN, strerror(errno));
	}
	if (map >= 0)
		close(map);
	return err;
}

int dg_guard_set_capture(struct dg_guard *g, int ifindex, bool tcp_steer)
{
	struct dg_policy pol = {};
	__u32 zero = 0;

	if (bpf_map_lookup_elem(g->policy_fd, &zero, &pol))
		goto fail;
	pol.capture_ifindex = ifindex;
	if (tcp_steer)
		pol.flags |= DG_POLICY_TCP_STEER;
	else
		pol.flags &= ~DG_POLICY_TCP_STEER;
	if (!bpf_map_update_elem(g->policy_fd, &zero, &pol, BPF_ANY))
		return 0;
fail:
	log_error("writing the redirect target to the policy map: %s",
		  strerror(errno));
	return -errno;
}

int dg_guard_slot_of(struct dg_guard *g, int ifindex, enum dg_hook hook, __u32 *slot)
{
	struct dg_attach rec;
	__u32 i;

	for (i = 0; i < DG_MAX_SLOTS; i++)
		if (!bpf_map_lookup_elem(g->attach_fd, &i, &rec) &&
		    (rec.flags & DG_ATTACH_USED) && rec.hook == (__u32)hook &&
		    rec.ifindex == (__u32)ifindex) {
			*slot = i;
			return 0;
		}
	return -ENOENT;
}

int dg_guard_read_attach(const char *pin_path, struct dg_attach rec[DG_MAX_SLOTS])
{
	__u32 slot;
	int fd, err = 0;

	fd = pin_get(pin_path, DG_PIN_ATTACH);
	if (fd < 0)
		return -errno;
	for (slot = 0; slot < DG_MAX_SLOTS; slot++) {
		if (bpf_map_lookup_elem(fd, &slot, &rec[slot])) {
			err = -errno;
			break;
		}
	}
	close(fd);
	return err;
}

static int guard_pin_prog(struct dg_guard *g, __u32 slot, int prog_fd)
{
	char path[PATH_MAX], name[32];

	snprintf(name, sizeof(name), DG_PIN_PROG_FMT, slot);
	if (path_join(path, sizeof(path), g->pin_path, name))
		return -ENAMETOOLONG;
	unlink(path);
	if (bpf_obj_pin(prog_fd, path)) {
		log_error("pinning %s: %s", path, strerror(errno));
		return -errno;
	}
	return 0;
}

static void guard_unpin_prog(struct dg_guard *g, __u32 slot)
{
	char path[PATH_MAX], name[32];

	snprintf(name, sizeof(name), DG_PIN_PROG_FMT, slot);
	if (!path_join(path, sizeof(path), g->pin_path, name))
		unlink(path);
}

static bool hook_is_tc(__u32 hook)
{
	return hook == DG_HOOK_TC_EGRESS || hook == DG_HOOK_TC_STEER;
}

/* Uplinks are guarded on egress; the capture end steers on ingress. */
static enum bpf_tc_attach_point tc_point(__u32 hook)
{
	return hook == DG_HOOK_TC_STEER ? BPF_TC_INGRESS : BPF_TC_EGRESS;
}

static int tc_query_id(int ifindex, __u32 hook, __u32 *prog_id)
{
	DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook_opts, .ifindex = ifindex,
			    .attach_point = tc_point(hook));
	DECLARE_LIBBPF_OPTS(bpf_tc_opts, opts, .handle = DG_TC_HANDLE,
			    .priority = DG_TC_PRIORITY);
	int err;

	log_libbpf_silence();
	err = bpf_tc_query(&hook_opts, &opts);
	log_libbpf_restore();
	*prog_id = err ? 0 : opts.prog_id;
	return err;
}

static int guard_attach_tc(struct dg_guard *g, const struct dg_target *t,
			   __u32 slot, struct dg_attach *rec)
{
	struct dg_prog_cfg pc = { .slot = slot, .hook = t->hook,
				  .l3_only = t->l3_only, .lan_port = t->lan_port };
	DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = t->ifindex,
			    .attach_point = tc_point(t->hook));
	DECLARE_LIBBPF_OPTS(bpf_tc_opts, opts, .handle = DG_TC_HANDLE,
			    .priority = DG_TC_PRIORITY,
			    .flags = BPF_TC_F_REPLACE);
	struct dg_tc *skel;
	__u32 old_id = 0;
	int err;

	err = dg_loader_tc(&pc, g->pin_path, &skel);
	if (err)
		return err;

	log_libbpf_silence();
	err = bpf_tc_hook_create(&hook);
	log_libbpf_restore();
	if (!err)
		rec->flags |= DG_ATTACH_HOOK_CREATED;
	else if (err != -EEXIST) {
		log_error("interface %s: cannot add a clsact qdisc: %s (kernel needs CONFIG_NET_SCH_INGRESS and CONFIG_NET_CLS_BPF)",
			  t->ifname, strerror(-err));
		goto out;
	}
	/* A filter at our handle that we did not record is someone else's
	 * mistake or a leftover: say so before replacing it. */
	if (!tc_query_id(t->ifindex, t->hook, &old_id) && old_id && old_id != rec->prog_id)
		log_warn("interface %s: replacing an unrecorded filter (program %u) at dotguard's tc handle",
			 t->ifname, old_id);

	opts.prog_fd = bpf_program__fd(t->hook == DG_HOOK_TC_STEER ?
					       skel->progs.dg_tc_steer :
					       skel->progs.dg_tc_egress);
	err = bpf_tc_attach(&hook, &opts);
	if (err) {
		log_error("interface %s: attaching %s: %s", t->ifname,
			  dg_hook_name(t->hook), strerror(-err));
		goto out;
	}
	rec->prog_id = opts.prog_id;
	rec->tc_handle = DG_TC_HANDLE;
	rec->tc_priority = DG_TC_PRIORITY;
	err = guard_pin_prog(g, slot, opts.prog_fd);
out:
	dg_tc__destroy(skel);
	return err;
}

/* Our program among libxdp's on ifindex, or NULL; *mpp must be closed. */
static struct xdp_program *xdp_find(int ifindex, __u32 prog_id,
				    struct xdp_multiprog **mpp)
{
	struct xdp_multiprog *mp;
	struct xdp_program *p;

	*mpp = NULL;
	log_libbpf_silence();
	mp = xdp_multiprog__get_from_ifindex(ifindex);
	log_libbpf_restore();
	if (libxdp_get_error(mp))
		return NULL;
	*mpp = mp;
	if (xdp_multiprog__is_legacy(mp)) {
		p = xdp_multiprog__main_prog(mp);
		return p && xdp_program__id(p) == prog_id ? p : NULL;
	}
	for (p = xdp_multiprog__next_prog(NULL, mp); p;
	     p = xdp_multiprog__next_prog(p, mp))
		if (xdp_program__id(p) == prog_id)
			return p;
	return NULL;
}

static int xdp_detach_id(int ifindex, __u32 prog_id)
{
	struct xdp_multiprog *mp;
	struct xdp_program *p;
	int err = -ENOENT;

	p = xdp_find(ifindex, prog_id, &mp);
	if (p) {
		if (xdp_multiprog__is_legacy(mp))
			err = xdp_multiprog__detach(mp);
		else
			err = xdp_program__detach(p, ifindex,
						  xdp_multiprog__attach_mode(mp), 0);
	}
	if (mp)
		xdp_multiprog__close(mp);
	return err;
}

static int guard_attach_xdp(struct dg_guard *g, const struct dg_target *t,
			    __u32 slot, struct dg_attach *rec)
{
	struct dg_prog_cfg pc = { .slot = slot, .hook = t->hook };
	enum xdp_attach_mode mode = XDP_MODE_NATIVE;
	struct xdp_program *prog;
	struct dg_xdp *skel;
	__u32 old_id = rec->prog_id;
	int old_ifindex = rec->ifindex;
	int err;

	err = dg_loader_xdp(&pc, g->pin_path, false, &skel);
	if (err)
		return err;
	prog = xdp_program__from_bpf_obj(skel->obj, NULL);
	err = libxdp_get_error(prog);
	if (err) {
		log_error("interface %s: libxdp cannot take the XDP guard: %s",
			  t->ifname, strerror(-err));
		prog = NULL;
		goto out;
	}
	log_libbpf_silence();
	err = xdp_program__attach(prog, t->ifindex, mode, 0);
	log_libbpf_restore();
	if (err && t->hook == DG_HOOK_XDP_CAPTURE) {
		/* Generic XDP never sees frames tc redirected: no fallback. */
		log_error("interface %s: native XDP on the capture veth failed (%s): redirect mode needs a kernel whose veth driver runs XDP natively; use Mode=drop",
			  t->ifname, strerror(-err));
		goto out;
	}
	if (err) {
		/* Frames from a NIC reach generic XDP too (unlike tc
		 * redirects on a veth), so this is a working fallback. */
		log_info("interface %s: native XDP not available (%s): using generic (skb) mode",
			 t->ifname, strerror(-err));
		mode = XDP_MODE_SKB;
		err = xdp_program__attach(prog, t->ifindex, mode, 0);
	}
	if (err) {
		log_error("interface %s: attaching XDP: %s", t->ifname,
			  strerror(-err));
		goto out;
	}
	rec->prog_id = xdp_program__id(prog);
	rec->xdp_mode = mode;
	err = guard_pin_prog(g, slot, xdp_program__fd(prog));
	/* The new program runs; now the old copy can go. */
	if (old_id && old_id != rec->prog_id && old_ifindex > 0)
		xdp_detach_id(old_ifindex, old_id);
out:
	xdp_program__close(prog);
	dg_xdp__destroy(skel);
	return err;
}

enum dg_attach_state dg_guard_state(const struct dg_attach *rec)
{
	struct xdp_multiprog *mp;
	struct xdp_program *p;
	__u32 id;

	if (rec_elsewhere(rec))
		return DG_STATE_ELSEWHERE;
	if (hook_is_tc(rec->hook)) {
		if (tc_query_id(rec->ifindex, rec->hook, &id) || !id)
			return DG_STATE_MISSING;
		return id == rec->prog_id ? DG_STATE_ATTACHED : DG_STATE_REPLACED;
	}
	p = xdp_find(rec->ifindex, rec->prog_id, &mp);
	if (mp)
		xdp_multiprog__close(mp);
	return p ? DG_STATE_ATTACHED : DG_STATE_MISSING;
}

/* Remove the program a record names, only if it is still ours. An
 * interface that vanished took the program with it: not an error. */
static int guard_detach_rec(const struct dg_attach *rec)
{
	DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = rec->ifindex,
			    .attach_point = tc_point(rec->hook));
	DECLARE_LIBBPF_OPTS(bpf_tc_opts, opts, .handle = rec->tc_handle,
			    .priority = rec->tc_priority);
	struct dg_link link;
	int err;

	if (!rec_elsewhere(rec) && dg_nl_link_get_index(rec->ifindex, &link) == -ENODEV) {
		log_info("interface %s (ifindex %u) is gone; nothing to detach there",
			 rec->ifname, rec->ifindex);
		return 0;
	}
	switch (dg_guard_state(rec)) {
	case DG_STATE_MISSING:
		log_info("interface %s: dotguard's %s program was already removed",
			 rec->ifname, dg_hook_name(rec->hook));
		return 0;
	case DG_STATE_REPLACED:
		log_warn("interface %s: the %s program there is not dotguard's (expected program %u): left alone",
			 rec->ifname, dg_hook_name(rec->hook), rec->prog_id);
		return 0;
	case DG_STATE_ELSEWHERE:
		log_error("interface %s: dotguard's %s program was attached in another network namespace (net:[%u]): detach it there",
			  rec->ifname, dg_hook_name(rec->hook), rec->netns_ino);
		return -EXDEV;
	case DG_STATE_ATTACHED:
		break;
	}
	if (hook_is_tc(rec->hook))
		err = bpf_tc_detach(&hook, &opts);
	else
		err = xdp_detach_id(rec->ifindex, rec->prog_id);
	if (err)
		log_error("interface %s: detaching %s: %s", rec->ifname,
			  dg_hook_name(rec->hook), strerror(-err));
	else
		log_info("interface %s: %s guard detached", rec->ifname,
			 dg_hook_name(rec->hook));
	return err;
}

static int detach_pass(__u32 hook)
{
	return hook == DG_HOOK_XDP_CAPTURE ? 2 : hook == DG_HOOK_TC_STEER ? 1 : 0;
}

/* A record, and for the capture hook the veth pair made for it. */
static int guard_detach_point(const struct dg_attach *rec)
{
	int err = guard_detach_rec(rec);

	if (rec->hook != DG_HOOK_XDP_CAPTURE)
		return err;
	return dg_redirect_detach(true) ? -EIO : err;
}

static bool rec_matches(const struct dg_attach *rec, const struct dg_target *t)
{
	return (rec->flags & DG_ATTACH_USED) && rec->hook == t->hook &&
	       !strncmp(rec->ifname, t->ifname, sizeof(rec->ifname));
}

/* A slot changing hands starts its counters from zero. */
static int guard_zero_slot(struct dg_guard *g, __u32 slot)
{
	struct dg_counter *zeros;
	int ncpu = libbpf_num_possible_cpus();
	__u32 r, a, key;
	int err = 0;

	if (ncpu < 0)
		return ncpu;
	zeros = calloc(ncpu, sizeof(*zeros));
	if (!zeros)
		return -ENOMEM;
	for (r = 0; r < DG_REASON_MAX && !err; r++)
		for (a = 0; a < DG_ACTION_MAX && !err; a++) {
			key = dg_counter_key(slot, r, a);
			if (bpf_map_update_elem(g->counters_fd, &key, zeros, BPF_ANY))
				err = -errno;
		}
	free(zeros);
	return err;
}

/* One line naming the first attachment made in another network namespace,
 * and -EXDEV; 0 when every record is ours. */
static int guard_refuse_elsewhere(const struct dg_guard *g,
				  const struct dg_attach rec[DG_MAX_SLOTS],
				  const char *what)
{
	__u32 slot;

	for (slot = 0; slot < DG_MAX_SLOTS; slot++)
		if ((rec[slot].flags & DG_ATTACH_USED) && rec_elsewhere(&rec[slot])) {
			log_error("PinPath=%s: the guard on %s (%s) was attached in another network namespace (net:[%u], this is net:[%u]); cannot %s: run dotguard there (ip netns exec NAME dotguard ...) or use another PinPath=; nothing was changed",
				  g->pin_path, rec[slot].ifname,
				  dg_hook_name(rec[slot].hook), rec[slot].netns_ino,
				  netns_self(), what);
			return -EXDEV;
		}
	return 0;
}

/* No slot is free: take one whose uplink is gone and not wanted now (its
 * program went with the interface), so uplinks that come and go under new
 * names (ppp, VPN tunnels) never use the slots up. Only then: a name that
 * comes back otherwise finds its own slot and counters. */
static __u32 guard_slot_reclaim(struct dg_guard *g, const struct dg_attach *old,
				const bool *wanted)
{
	struct dg_link link;
	__u32 slot;

	for (slot = 0; slot < DG_MAX_SLOTS; slot++) {
		if (!(old[slot].flags & DG_ATTACH_USED) || wanted[slot] ||
		    old[slot].hook != DG_HOOK_TC_EGRESS ||
		    dg_nl_link_get_index((int)old[slot].ifindex, &link) != -ENODEV)
			continue;
		log_info("attach slot %u: interface %s is gone; the slot is reused",
			 slot, old[slot].ifname);
		guard_unpin_prog(g, slot);
		break;
	}
	return slot;
}

static int guard_apply(struct dg_guard *g, const struct dg_config *cfg,
		       const struct dg_target *t, int n, bool replace,
		       bool keep_others)
{
	struct dg_attach old[DG_MAX_SLOTS], rec;
	bool wanted[DG_MAX_SLOTS] = {};
	__u32 slot;
	int i, err;

	err = guard_maps_open(g);
	if (err)
		return err;
	err = dg_guard_read_attach(g->pin_path, old);
	if (err) {
		log_error("reading attach records under %s: %s", g->pin_path,
			  strerror(-err));
		return err;
	}
	/* Before the policy: a guard elsewhere keeps its mode too. */
	err = guard_refuse_elsewhere(g, old, "start a guard here");
	if (err)
		return err;
	err = guard_write_policy(g, cfg);
	if (err)
		return err;

	for (i = 0; i < n; i++) {
		/* Same interface and hook as before: same slot, so counters
		 * carry on and the replace is in place. */
		for (slot = 0; slot < DG_MAX_SLOTS; slot++)
			if (rec_matches(&old[slot], &t[i]))
				break;
		if (slot == DG_MAX_SLOTS) {
			for (slot = 0; slot < DG_MAX_SLOTS; slot++)
				if (!(old[slot].flags & DG_ATTACH_USED) && !wanted[slot])
					break;
			if (slot == DG_MAX_SLOTS)
				slot = guard_slot_reclaim(g, old, wanted);
			if (slot == DG_MAX_SLOTS) {
				log_error("no free attach slot for %s (at most %d)",
					  t[i].ifname, DG_MAX_SLOTS);
				return -E2BIG;
			}
			memset(&old[slot], 0, sizeof(old[slot]));
			err = guard_zero_slot(g, slot);
			if (err)
				return err;
		}
		wanted[slot] = true;
		/* A reload runs the same binary: a program still in place
		 * where its record says needs no new copy. XDP is kept on a
		 * restart too: without libxdp's dispatcher a second program
		 * cannot join the first, and detaching first would open a
		 * gap in the guard. */
		if ((!replace || !hook_is_tc(t[i].hook)) &&
		    old[slot].ifindex == (__u32)t[i].ifindex &&
		    (old[slot].flags & DG_ATTACH_USED) &&
		    dg_guard_state(&old[slot]) == DG_STATE_ATTACHED)
			continue;
		rec = old[slot];
		/* The interface may have been re-created under a new index. */
		if (rec.ifindex != (__u32)t[i].ifindex)
			rec.prog_id = 0;
		rec.flags |= DG_ATTACH_USED;
		rec.hook = t[i].hook;
		rec.ifindex = t[i].ifindex;
		rec.netns_ino = netns_self();
		snprintf(rec.ifname, sizeof(rec.ifname), "%s", t[i].ifname);
		if (hook_is_tc(t[i].hook))
			err = guard_attach_tc(g, &t[i], slot, &rec);
		else
			err = guard_attach_xdp(g, &t[i], slot, &rec);
		if (err)
			return err;
		if (bpf_map_update_elem(g->attach_fd, &slot, &rec, BPF_ANY)) {
			log_error("recording attach slot %u: %s", slot, strerror(errno));
			return -errno;
		}
		log_info("interface %s: %s guard attached (program %u)",
			 rec.ifname, dg_hook_name(rec.hook), rec.prog_id);
	}

	/* Attach points the config no longer names. */
	for (slot = 0; !keep_others && slot < DG_MAX_SLOTS; slot++) {
		if (wanted[slot] || !(old[slot].flags & DG_ATTACH_USED))
			continue;
		guard_detach_point(&old[slot]);
		guard_unpin_prog(g, slot);
		memset(&rec, 0, sizeof(rec));
		bpf_map_update_elem(g->attach_fd, &slot, &rec, BPF_ANY);
	}
	return 0;
}

int dg_guard_apply(struct dg_guard *g, const struct dg_config *cfg,
		   const struct dg_target *t, int n, bool replace)
{
	return guard_apply(g, cfg, t, n, replace, false);
}

int dg_guard_reguard(struct dg_guard *g, const struct dg_config *cfg,
		     const struct dg_target *t, int n)
{
	return guard_apply(g, cfg, t, n, false, true);
}

int dg_guard_detach(struct dg_guard *g)
{
	struct dg_attach rec[DG_MAX_SLOTS];
	char path[PATH_MAX];
	struct dirent *de;
	__u32 slot;
	DIR *dir;
	int err = 0, ret, pass;

	ret = dg_guard_read_attach(g->pin_path, rec);
	if (ret)
		log_warn("no attach records under %s (%s): removing pins only",
			 g->pin_path, strerror(-ret));
	else if (guard_refuse_elsewhere(g, rec, "detach it from here"))
		return -EXDEV;
	/* Uplinks first: the capture end goes once nothing redirects to
	 * it, its pair last of all. */
	for (pass = 0; pass < 3; pass++)
		for (slot = 0; !ret && slot < DG_MAX_SLOTS; slot++)
			if ((rec[slot].flags & DG_ATTACH_USED) &&
			    detach_pass(rec[slot].hook) == pass &&
			    guard_detach_point(&rec[slot]))
				err = -EIO;
	/* Programs first, then maps: nothing is left half-guarded. */
	dir = opendir(g->pin_path);
	if (!dir) {
		log_error("PinPath=%s: %s", g->pin_path, strerror(errno));
		return -errno;
	}
	while ((de = readdir(dir))) {
		if (de->d_name[0] == '.')
			continue;
		if (path_join(path, sizeof(path), g->pin_path, de->d_name) ||
		    unlink(path)) {
			log_error("removing pin %s: %s", path, strerror(errno));
			err = -errno;
		}
	}
	closedir(dir);
	/* Last: with no program left, nothing is marked for it. */
	if (dg_redirect_detach(false))
		err = -EIO;
	if (!err && rmdir(g->pin_path)) {
		log_error("removing %s: %s", g->pin_path, strerror(errno));
		err = -errno;
	}
	return err;
}

static int own_map(struct dg_guard *g)
{
	if (g->own_fd < 0)
		g->own_fd = pin_get(g->pin_path, DG_PIN_OWN_SOCKS);
	return g->own_fd < 0 ? -errno : 0;
}

int dg_guard_allow_socket(struct dg_guard *g, int fd)
{
	struct dg_policy pol;
	socklen_t len = sizeof(__u64);
	__u64 cookie;
	__u32 zero = 0;
	__u8 one = 1;
	int err;

	err = own_map(g);
	if (err)
		return err;
	if (getsockopt(fd, SOL_SOCKET, SO_COOKIE, &cookie, &len))
		return -errno;
	if (bpf_map_update_elem(g->own_fd, &cookie, &one, BPF_ANY))
		return -errno;
	/* The guard looks cookies up only once told there are some. */
	if (g->policy_fd >= 0 && !bpf_map_lookup_elem(g->policy_fd, &zero, &pol) &&
	    !(pol.flags & DG_POLICY_OWN_SOCKETS)) {
		pol.flags |= DG_POLICY_OWN_SOCKETS;
		if (bpf_map_update_elem(g->policy_fd, &zero, &pol, BPF_ANY))
			return -errno;
	}
	return 0;
}

void dg_guard_forget_socket(struct dg_guard *g, __u64 cookie)
{
	if (!own_map(g))
		bpf_map_delete_elem(g->own_fd, &cookie);
}

void dg_guard_abandon(struct dg_guard *g)
{
	/* rmdir refuses a directory that holds pins: only an empty one we
	 * made goes, so nothing of a working guard is ever lost. */
	if (g->created_dir && !rmdir(g->pin_path))
		log_debug("removed %s, created by this failed start", g->pin_path);
	g->created_dir = false;
}

void dg_guard_close(struct dg_guard *g)
{
	int *fds[] = { &g->policy_fd, &g->attach_fd, &g->counters_fd,
		       &g->own_fd, &g->lock_fd };
	size_t i;

	for (i = 0; i < sizeof(fds) / sizeof(fds[0]); i++) {
		if (*fds[i] >= 0)
			close(*fds[i]);
		*fds[i] = -1;
	}
}
