// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <string.h>
#include <bpf/libbpf.h>

#include "loader.h"
#include "log.h"

void dg_loader_explain(int err, const char *what, const char *pin_path)
{
	switch (err) {
	case -EPERM:
	case -EACCES:
		log_error("loading %s: permission denied: run as root (CAP_BPF, CAP_NET_ADMIN, CAP_SYS_ADMIN)",
			  what);
		break;
	case -EINVAL:
		if (pin_path) {
			log_error("loading %s: rejected; if maps pinned at %s come from another dotguard version, run 'dotguard detach' first (-v shows the verifier log)",
				  what, pin_path);
			break;
		}
		/* fall through */
	default:
		log_error("loading %s: %s (kernel needs BPF, BTF and clsact/XDP; -v shows libbpf's log)",
			  what, strerror(-err));
	}
}

/* Test mode: libbpf would pin LIBBPF_PIN_BY_NAME maps under /sys/fs/bpf
 * when no root is given, so clear every pin path to keep maps private. */
static int loader_unpin_all(struct bpf_object *obj)
{
	struct bpf_map *map;
	int err;

	bpf_object__for_each_map(map, obj) {
		err = bpf_map__set_pin_path(map, NULL);
		if (err)
			return err;
	}
	return 0;
}

static struct bpf_object_open_opts *loader_opts(struct bpf_object_open_opts *o,
						const char *pin_path)
{
	memset(o, 0, sizeof(*o));
	o->sz = sizeof(*o);
	o->pin_root_path = pin_path;
	return o;
}

int dg_loader_tc(const struct dg_prog_cfg *cfg, const char *pin_path,
		 struct dg_tc **out)
{
	struct bpf_object_open_opts opts;
	struct dg_tc *skel;
	int err;

	skel = dg_tc__open_opts(loader_opts(&opts, pin_path));
	if (!skel) {
		err = -errno;
		dg_loader_explain(err, "the tc guard", pin_path);
		return err;
	}
	skel->rodata->dg_cfg = *cfg;
	if (!pin_path) {
		err = loader_unpin_all(skel->obj);
		if (err)
			goto fail;
	}
	err = dg_tc__load(skel);
	if (err)
		goto fail;
	*out = skel;
	return 0;
fail:
	dg_loader_explain(err, "the tc guard", pin_path);
	dg_tc__destroy(skel);
	return err;
}

int dg_loader_xdp(const struct dg_prog_cfg *cfg, const char *pin_path,
		  bool load, struct dg_xdp **out)
{
	struct bpf_object_open_opts opts;
	struct dg_xdp *skel;
	int err;

	skel = dg_xdp__open_opts(loader_opts(&opts, pin_path));
	if (!skel) {
		err = -errno;
		dg_loader_explain(err, "the XDP guard", pin_path);
		return err;
	}
	skel->rodata->dg_cfg = *cfg;
	if (!pin_path) {
		err = loader_unpin_all(skel->obj);
		if (err)
			goto fail;
	}
	if (load) {
		err = dg_xdp__load(skel);
		if (err)
			goto fail;
	}
	*out = skel;
	return 0;
fail:
	dg_loader_explain(err, "the XDP guard", pin_path);
	dg_xdp__destroy(skel);
	return err;
}
