/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * One event loop per worker: epoll for fds, a binary heap of timers, and
 * end-of-iteration callbacks so work queued by many events (queries for
 * one TLS connection, replies for one UDP socket) leaves in one batch.
 * Nothing here blocks except epoll_wait.
 */
#ifndef DG_LOOP_H
#define DG_LOOP_H

#include <stdbool.h>
#include <stdint.h>

struct dg_loop;

typedef void (*dg_io_fn)(struct dg_loop *l, uint32_t events, void *arg);

/* Embedded in its owner; the loop never allocates one. */
struct dg_io {
	int fd;
	uint32_t events;	/* EPOLLIN / EPOLLOUT currently armed */
	dg_io_fn fn;
	void *arg;
};

struct dg_timer;
typedef void (*dg_timer_fn)(struct dg_loop *l, struct dg_timer *t);

struct dg_timer {
	uint64_t when;		/* dg_now_ns() deadline */
	int idx;		/* heap slot, -1 when not armed */
	dg_timer_fn fn;
};

/* Called once at the end of the loop iteration it was queued in. */
struct dg_defer {
	struct dg_defer *next;
	bool queued;
	void (*fn)(struct dg_loop *l, struct dg_defer *d);
};

struct dg_loop {
	int epfd;
	bool stop;
	struct dg_timer **heap;
	int n_timers, cap_timers;
	struct dg_defer *deferred;
	uint64_t now;		/* cached at each wakeup */
};

/* CLOCK_MONOTONIC in nanoseconds. */
uint64_t dg_now_ns(void);

int dg_loop_init(struct dg_loop *l);
void dg_loop_fini(struct dg_loop *l);

/* Register fd for events with fn(arg). Returns 0 or -errno. */
int dg_io_add(struct dg_loop *l, struct dg_io *io, int fd, uint32_t events,
	      dg_io_fn fn, void *arg);
/* Change the armed events (no syscall when unchanged). */
int dg_io_mod(struct dg_loop *l, struct dg_io *io, uint32_t events);
void dg_io_del(struct dg_loop *l, struct dg_io *io);

void dg_timer_init(struct dg_timer *t, dg_timer_fn fn);
/* Arm (or re-arm) t for the absolute time when. Returns 0 or -ENOMEM. */
int dg_timer_set(struct dg_loop *l, struct dg_timer *t, uint64_t when);
void dg_timer_cancel(struct dg_loop *l, struct dg_timer *t);
static inline bool dg_timer_armed(const struct dg_timer *t)
{
	return t->idx >= 0;
}

void dg_defer_init(struct dg_defer *d, void (*fn)(struct dg_loop *, struct dg_defer *));
/* Queue d for the end of this iteration (once, however often asked). */
void dg_defer(struct dg_loop *l, struct dg_defer *d);

/* Run until dg_loop_stop(). Returns 0 or -errno from epoll. */
int dg_loop_run(struct dg_loop *l);
void dg_loop_stop(struct dg_loop *l);

#endif /* DG_LOOP_H */
