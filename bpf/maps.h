/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Every map the guard uses, pinned by name under PinPath= so the guard,
 * its counters and its policy outlive the daemon. Included once per BPF
 * object; objects loaded later reuse the pinned maps.
 */
#ifndef DOTGUARD_MAPS_H
#define DOTGUARD_MAPS_H

#include "dotguard/abi.h"

/* Set per load through skel->rodata: which attach point this copy is. */
const volatile struct dg_prog_cfg dg_cfg = {};

/* [slot][reason][action] -> packets, bytes; per CPU, summed by `status`. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, DG_COUNTER_ENTRIES);
	__type(key, __u32);
	__type(value, struct dg_counter);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} dg_counters SEC(".maps");

/* [0] -> the live policy (mode, redirect target). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct dg_policy);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} dg_policy SEC(".maps");

/* Socket cookies of the daemon's own sockets: their port-53 traffic is
 * the only port-53 traffic that passes. Never an address or a port. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, DG_MAX_OWN_SOCKETS);
	__type(key, __u64);
	__type(value, __u8);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} dg_own_socks SEC(".maps");

/* Fragmented datagrams -> the action their first fragment got, so later
 * fragments of the same datagram get it too. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, DG_MAX_FRAGS);
	__type(key, struct dg_frag_key);
	__type(value, struct dg_frag_val);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} dg_frags SEC(".maps");

/* AF_XDP sockets, keyed slot * DG_MAX_QUEUES + rx queue. */
struct {
	__uint(type, BPF_MAP_TYPE_XSKMAP);
	__uint(max_entries, DG_XSK_ENTRIES);
	__type(key, __u32);
	__type(value, __u32);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} dg_xsks SEC(".maps");

/* The daemon's transparent TCP listeners (DG_LISTEN_V4/V6) that steered
 * TCP/53 connections are assigned to. */
struct {
	__uint(type, BPF_MAP_TYPE_SOCKMAP);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u64);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} dg_listen SEC(".maps");

/* [slot] -> what `run` attached there; read by `detach` and `status`. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, DG_MAX_SLOTS);
	__type(key, __u32);
	__type(value, struct dg_attach);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} dg_attach SEC(".maps");

/* [0] -> the daemon's own counters; the daemon mmaps it (never BPF). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct dg_daemon_stats);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} dg_daemon SEC(".maps");

#endif /* DOTGUARD_MAPS_H */
