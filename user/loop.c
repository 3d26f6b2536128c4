// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/epoll.h>

#include "dotguard/limits.h"
#include "loop.h"

#define LOOP_MAX_EVENTS 64

uint64_t dg_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

int dg_loop_init(struct dg_loop *l)
{
	memset(l, 0, sizeof(*l));
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (l->epfd < 0)
		return -errno;
	l->now = dg_now_ns();
	return 0;
}

static void run_deferred(struct dg_loop *l);

void dg_loop_fini(struct dg_loop *l)
{
	unsigned int pass;

	/* Frees queued by teardown run now: no iteration is coming. */
	for (pass = 0; pass < 64 && l->deferred; pass++)
		run_deferred(l);
	if (l->epfd >= 0)
		close(l->epfd);
	free(l->heap);
	memset(l, 0, sizeof(*l));
	l->epfd = -1;
}

int dg_io_add(struct dg_loop *l, struct dg_io *io, int fd, uint32_t events,
	      dg_io_fn fn, void *arg)
{
	struct epoll_event ev = { .events = events, .data.ptr = io };

	io->fd = fd;
	io->events = events;
	io->fn = fn;
	io->arg = arg;
	return epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev) ? -errno : 0;
}

int dg_io_mod(struct dg_loop *l, struct dg_io *io, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = io };

	if (io->events == events)
		return 0;
	io->events = events;
	return epoll_ctl(l->epfd, EPOLL_CTL_MOD, io->fd, &ev) ? -errno : 0;
}

void dg_io_del(struct dg_loop *l, struct dg_io *io)
{
	if (io->fd >= 0)
		epoll_ctl(l->epfd, EPOLL_CTL_DEL, io->fd, NULL);
	io->fn = NULL;
}

/* The timer heap: earliest deadline at [0]; each timer knows its slot so
 * cancelling is O(log n), which 1000s of per-query deadlines need. */
static void heap_swap(struct dg_loop *l, int a, int b)
{
	struct dg_timer *t = l->heap[a];

	l->heap[a] = l->heap[b];
	l->heap[b] = t;
	l->heap[a]->idx = a;
	l->heap[b]->idx = b;
}

static void heap_up(struct dg_loop *l, int i)
{
	while (i > 0 && l->heap[(i - 1) / 2]->when > l->heap[i]->when) {
		heap_swap(l, i, (i - 1) / 2);
		i = (i - 1) / 2;
	}
}

static void heap_down(struct dg_loop *l, int i)
{
	int c;

	for (;;) {
		c = 2 * i + 1;
		if (c >= l->n_timers)
			return;
		if (c + 1 < l->n_timers && l->heap[c + 1]->when < l->heap[c]->when)
			c++;
		if (l->heap[i]->when <= l->heap[c]->when)
			return;
		heap_swap(l, i, c);
		i = c;
	}
}

void dg_timer_init(struct dg_timer *t, dg_timer_fn fn)
{
	t->when = 0;
	t->idx = -1;
	t->fn = fn;
}

void dg_timer_cancel(struct dg_loop *l, struct dg_timer *t)
{
	int i = t->idx;

	if (i < 0)
		return;
	t->idx = -1;
	l->n_timers--;
	if (i == l->n_timers)
		return;
	l->heap[i] = l->heap[l->n_timers];
	l->heap[i]->idx = i;
	heap_up(l, i);
	heap_down(l, l->heap[i]->idx);
}

int dg_timer_set(struct dg_loop *l, struct dg_timer *t, uint64_t when)
{
	struct dg_timer **heap;
	int cap;

	dg_timer_cancel(l, t);
	if (l->n_timers == l->cap_timers) {
		cap = l->cap_timers ? l->cap_timers * 2 : 256;
		heap = realloc(l->heap, cap * sizeof(*heap));
		if (!heap)
			return -ENOMEM;
		l->heap = heap;
		l->cap_timers = cap;
	}
	t->when = when;
	t->idx = l->n_timers++;
	l->heap[t->idx] = t;
	heap_up(l, t->idx);
	return 0;
}

void dg_defer_init(struct dg_defer *d,
		   void (*fn)(struct dg_loop *, struct dg_defer *))
{
	d->next = NULL;
	d->queued = false;
	d->fn = fn;
}

void dg_defer(struct dg_loop *l, struct dg_defer *d)
{
	if (d->queued)
		return;
	d->queued = true;
	d->next = l->deferred;
	l->deferred = d;
}

static void run_deferred(struct dg_loop *l)
{
	struct dg_defer *d;
	unsigned int n;

	/* A callback may queue more work; it runs in this same pass, up to
	 * a bound: a defer that queues itself again waits for the next
	 * turn instead of spinning here. */
	for (n = 0; n < DG_LOOP_DEFER_PASS && (d = l->deferred); n++) {
		l->deferred = d->next;
		d->queued = false;
		d->fn(l, d);
	}
}

static void run_timers(struct dg_loop *l)
{
	struct dg_timer *t;
	unsigned int n;

	/* At most as many as were armed: a timer that re-arms itself at or
	 * before now fires again on the next turn, not in a spin here. */
	for (n = l->n_timers; n && l->n_timers && l->heap[0]->when <= l->now; n--) {
		t = l->heap[0];
		dg_timer_cancel(l, t);
		t->fn(l, t);
	}
}

static int next_timeout_ms(struct dg_loop *l)
{
	uint64_t when;

	if (l->deferred)
		return 0;
	if (!l->n_timers)
		return -1;
	when = l->heap[0]->when;
	if (when <= l->now)
		return 0;
	/* Round up so a timer never fires a little early and spins. */
	return (int)((when - l->now + 999999) / 1000000);
}

int dg_loop_run(struct dg_loop *l)
{
	struct epoll_event ev[LOOP_MAX_EVENTS];
	struct dg_io *io;
	int n, i;

	while (!l->stop) {
		n = epoll_wait(l->epfd, ev, LOOP_MAX_EVENTS, next_timeout_ms(l));
		if (n < 0 && errno != EINTR)
			return -errno;
		l->now = dg_now_ns();
		for (i = 0; i < n; i++) {
			io = ev[i].data.ptr;
			if (io->fn)
				io->fn(l, ev[i].events, io->arg);
		}
		run_timers(l);
		run_deferred(l);
	}
	return 0;
}

void dg_loop_stop(struct dg_loop *l)
{
	l->stop = true;
}
