// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#define _GNU_SOURCE
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/syscall.h>

#include "log.h"
#include "privs.h"

/* Newer than some headers. */
#ifndef CAP_PERFMON
#define CAP_PERFMON 38
#endif
#ifndef CAP_BPF
#define CAP_BPF 39
#endif
#define CAP_MAX_KNOWN 63

uint64_t dg_privs_keep_mask(void)
{
	return 1ull << CAP_NET_ADMIN | 1ull << CAP_NET_RAW | 1ull << CAP_BPF |
	       1ull << CAP_PERFMON | 1ull << CAP_SYS_ADMIN | 1ull << CAP_DAC_OVERRIDE;
}

/* "CAP_NET_ADMIN, CAP_BPF, ..." for the log line. */
static const char *caps_text(uint64_t caps, char *buf, size_t cap)
{
	static const struct { int cap; const char *name; } names[] = {
		{ CAP_DAC_OVERRIDE, "CAP_DAC_OVERRIDE" },
		{ CAP_NET_ADMIN, "CAP_NET_ADMIN" },
		{ CAP_NET_RAW, "CAP_NET_RAW" },
		{ CAP_SYS_ADMIN, "CAP_SYS_ADMIN" },
		{ CAP_PERFMON, "CAP_PERFMON" },
		{ CAP_BPF, "CAP_BPF" },
	};
	size_t i, len = 0;

	buf[0] = '\0';
	for (i = 0; i < sizeof(names) / sizeof(names[0]) && len < cap; i++)
		if (caps & 1ull << names[i].cap)
			len += snprintf(buf + len, cap - len, "%s%s", len ? ", " : "",
					names[i].name);
	return buf;
}

/* The permitted set now (systemd's CapabilityBoundingSet= may have
 * trimmed it); no libcap, the raw v3 interface. */
static uint64_t caps_permitted(void)
{
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct data[2] = {};

	if (syscall(SYS_capget, &hdr, data))
		return 0;
	return (uint64_t)data[1].permitted << 32 | data[0].permitted;
}

/* After a drop: what stays permitted; raise makes it effective. The one
 * piece of process-wide state here, as capabilities are process-wide. */
static struct {
	bool dropped;
	uint64_t permitted;
	unsigned int depth;	/* raises not yet lowered */
} privs;

static int caps_set(uint64_t permitted, uint64_t effective)
{
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct data[2] = {};

	data[0].permitted = (uint32_t)permitted;
	data[1].permitted = (uint32_t)(permitted >> 32);
	data[0].effective = (uint32_t)effective;
	data[1].effective = (uint32_t)(effective >> 32);
	return syscall(SYS_capset, &hdr, data) ? -errno : 0;
}

void dg_privs_raise(void)
{
	int err;

	if (!privs.dropped || privs.depth++)
		return;
	err = caps_set(privs.permitted, privs.permitted);
	if (err)
		log_error("raising the kept capabilities: %s", strerror(-err));
}

void dg_privs_lower(void)
{
	int err;

	if (!privs.dropped || !privs.depth || --privs.depth)
		return;
	err = caps_set(privs.permitted, 0);
	if (err)
		log_error("lowering the kept capabilities: %s", strerror(-err));
}

int dg_privs_drop(const char *user, bool required)
{
	uint64_t want = dg_privs_keep_mask();
	uint64_t keep = want & caps_permitted();
	struct passwd *pw;
	char text[160];
	int cap, err;

	errno = 0;
	pw = getpwnam(user);
	if (!pw && required) {
		log_error("User=%s: no such user (create it, or User=root to stay root)", user);
		return -ENOENT;
	}
	if (!pw) {
		log_warn("user %s does not exist: running as root (useradd --system --no-create-home --shell /usr/sbin/nologin %s)",
			 user, user);
		return 0;
	}
	if (pw->pw_uid == 0)
		return 0;
	/* Capabilities outside the set can never come back, not even
	 * through an exec. EINVAL: a capability this kernel lacks. */
	for (cap = 0; cap <= CAP_MAX_KNOWN; cap++)
		if (!(keep & 1ull << cap) && prctl(PR_CAPBSET_READ, cap, 0, 0, 0) == 1 &&
		    prctl(PR_CAPBSET_DROP, cap, 0, 0, 0)) {
			err = -errno;
			goto fail;
		}
	if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) || setgroups(0, NULL) ||
	    setresgid(pw->pw_gid, pw->pw_gid, pw->pw_gid) ||
	    setresuid(pw->pw_uid, pw->pw_uid, pw->pw_uid)) {
		err = -errno;
		goto fail;
	}
	/* Permitted, none effective: dg_privs_raise() when needed. */
	err = caps_set(keep, 0);
	if (err)
		goto fail;
	privs.dropped = true;
	privs.permitted = keep;
	prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0);
	prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
	if (keep != want)
		log_warn("running as %s without some capabilities it uses (kept %#llx of %#llx): re-attaching after link changes may fail",
			 user, (unsigned long long)keep, (unsigned long long)want);
	else
		log_info("running as %s (uid %u) with %s permitted, raised only to change the guard",
			 user, (unsigned int)pw->pw_uid, caps_text(keep, text, sizeof(text)));
	return 0;
fail:
	log_error("dropping privileges to %s: %s", user, strerror(-err));
	return err;
}
