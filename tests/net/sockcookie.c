// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * net_sockcookie: send one UDP datagram to ADDR:PORT from a fresh socket,
 * optionally after putting that socket's cookie in the pinned allow-list
 * map (dg_own_socks: key u64 cookie, value u8 1), as the daemon does for
 * its own sockets. With -p, raise DG_POLICY_OWN_SOCKETS in the pinned
 * dg_policy map for the send, which tells the guard that cookies are
 * worth looking up (the daemon does the same when it registers a socket);
 * -p without -m sends with the lookup on and the cookie not listed. The
 * entry is removed, and the policy flags restored, before exit.
 *
 *   net_sockcookie [-m PINNED_ALLOW_MAP] [-p PINNED_POLICY_MAP] ADDR PORT
 *
 * Prints "cookie=N lport=P sent" (or "... dropped-locally" for ENOBUFS,
 * which a tc drop may return). Exit 0 when the datagram was handed to the
 * kernel, 1 on any other error, with one line naming the cause.
 * Used by tests/net/cases/own_socket_allowed.sh.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "dotguard/abi.h"

#ifndef SO_COOKIE
#define SO_COOKIE 57
#endif

/* "a.test. IN A", so a capture shows a DNS query. */
static const unsigned char query[] = {
	0x12, 0x34, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x01, 'a',  0x04, 't',	0x65, 's',  't',  0x00, 0x00, 0x01, 0x00, 0x01,
};

static int parse_addr(const char *text, const char *port,
		      struct sockaddr_storage *ss, socklen_t *len)
{
	struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;
	struct sockaddr_in *a4 = (struct sockaddr_in *)ss;
	char *end;
	long p;

	p = strtol(port, &end, 10);
	if (*end || p <= 0 || p > 65535)
		return -EINVAL;
	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, text, &a4->sin_addr) == 1) {
		a4->sin_family = AF_INET;
		a4->sin_port = htons((uint16_t)p);
		*len = sizeof(*a4);
		return 0;
	}
	if (inet_pton(AF_INET6, text, &a6->sin6_addr) == 1) {
		a6->sin6_family = AF_INET6;
		a6->sin6_port = htons((uint16_t)p);
		*len = sizeof(*a6);
		return 0;
	}
	return -EINVAL;
}

/* Set DG_POLICY_OWN_SOCKETS in dg_policy[0]; *old gets the flags to
 * restore. Returns the map fd, or -1 after one error line. */
static int policy_raise(const char *path, __u32 *old)
{
	struct dg_policy pol;
	__u32 zero = 0;
	int fd;

	fd = bpf_obj_get(path);
	if (fd < 0) {
		fprintf(stderr, "error: open pinned map %s: %s\n", path,
			strerror(errno));
		return -1;
	}
	if (bpf_map_lookup_elem(fd, &zero, &pol)) {
		fprintf(stderr, "error: read %s[0]: %s\n", path, strerror(errno));
		goto fail;
	}
	*old = pol.flags;
	pol.flags |= DG_POLICY_OWN_SOCKETS;
	if (bpf_map_update_elem(fd, &zero, &pol, BPF_EXIST)) {
		fprintf(stderr, "error: write %s[0]: %s\n", path, strerror(errno));
		goto fail;
	}
	return fd;
fail:
	close(fd);
	return -1;
}

/* Put the flags back as they were (the rest of the policy may have
 * changed meanwhile: read, modify, write). */
static int policy_restore(int fd, const char *path, __u32 old)
{
	struct dg_policy pol;
	__u32 zero = 0;
	int ret = 1;

	if (bpf_map_lookup_elem(fd, &zero, &pol))
		goto out;
	pol.flags &= ~DG_POLICY_OWN_SOCKETS;
	pol.flags |= old & DG_POLICY_OWN_SOCKETS;
	if (bpf_map_update_elem(fd, &zero, &pol, BPF_EXIST))
		goto out;
	ret = 0;
out:
	if (ret)
		fprintf(stderr, "error: restore %s[0]: %s\n", path,
			strerror(errno));
	close(fd);
	return ret;
}

static int local_port(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (getsockname(fd, (struct sockaddr *)&ss, &len))
		return -1;
	if (ss.ss_family == AF_INET)
		return ntohs(((struct sockaddr_in *)&ss)->sin_port);
	return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
}

int main(int argc, char **argv)
{
	const char *map_path = NULL, *policy_path = NULL;
	__u32 old_flags = 0;
	int policy_fd = -1;
	struct sockaddr_storage dst;
	socklen_t dst_len, clen;
	uint64_t cookie = 0;
	int fd, map_fd = -1, ret = 1, opt, sent;
	uint8_t one = 1;

	while ((opt = getopt(argc, argv, "m:p:")) != -1) {
		if (opt == 'm')
			map_path = optarg;
		else if (opt == 'p')
			policy_path = optarg;
		else
			goto usage;
	}
	if (argc - optind != 2)
		goto usage;
	if (parse_addr(argv[optind], argv[optind + 1], &dst, &dst_len)) {
		fprintf(stderr, "error: bad address or port: %s %s\n",
			argv[optind], argv[optind + 1]);
		return 1;
	}

	fd = socket(dst.ss_family, SOCK_DGRAM, 0);
	if (fd < 0) {
		fprintf(stderr, "error: socket: %s\n", strerror(errno));
		return 1;
	}
	/* Connect first so the local port is known before anything is sent. */
	if (connect(fd, (struct sockaddr *)&dst, dst_len)) {
		fprintf(stderr, "error: connect %s: %s\n", argv[optind],
			strerror(errno));
		goto out;
	}
	clen = sizeof(cookie);
	if (getsockopt(fd, SOL_SOCKET, SO_COOKIE, &cookie, &clen)) {
		fprintf(stderr, "error: SO_COOKIE: %s\n", strerror(errno));
		goto out;
	}
	if (map_path) {
		map_fd = bpf_obj_get(map_path);
		if (map_fd < 0) {
			fprintf(stderr, "error: open pinned map %s: %s\n",
				map_path, strerror(errno));
			goto out;
		}
		if (bpf_map_update_elem(map_fd, &cookie, &one, BPF_ANY)) {
			fprintf(stderr, "error: add cookie to %s: %s\n",
				map_path, strerror(errno));
			goto out;
		}
	}
	if (policy_path) {
		policy_fd = policy_raise(policy_path, &old_flags);
		if (policy_fd < 0)
			goto out;
	}

	sent = send(fd, query, sizeof(query), 0) == (ssize_t)sizeof(query);
	if (!sent && errno != ENOBUFS) {
		fprintf(stderr, "error: send to %s: %s\n", argv[optind],
			strerror(errno));
		goto out;
	}
	printf("cookie=%llu lport=%d %s\n", (unsigned long long)cookie,
	       local_port(fd), sent ? "sent" : "dropped-locally");
	ret = 0;
out:
	if (policy_fd >= 0 && policy_restore(policy_fd, policy_path, old_flags))
		ret = 1;
	if (map_fd >= 0) {
		if (bpf_map_delete_elem(map_fd, &cookie) && errno != ENOENT) {
			fprintf(stderr, "error: remove cookie from %s: %s\n",
				map_path, strerror(errno));
			ret = 1;
		}
		close(map_fd);
	}
	close(fd);
	return ret;
usage:
	fprintf(stderr, "usage: %s [-m ALLOW_MAP] [-p POLICY_MAP] ADDR PORT\n",
		argv[0]);
	return 1;
}
