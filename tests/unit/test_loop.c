// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Unit tests for user/loop.c, through dg_loop_run as the daemon drives it:
 * timers fire in deadline order and never early, cancel and re-arm, work
 * queued from callbacks, end-of-turn defers that run once however often
 * queued, io add/mod/del on pipes, and dg_loop_stop. Every test arms a
 * watchdog timer, so a loop that would not stop fails within a second
 * instead of hanging; alarm() catches one stuck inside epoll_wait.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <cmocka.h>

#include "loop.h"

#define MS 1000000ull
#define WATCHDOG_NS (1000 * MS)
#define N_MANY 1000
#define LOG_MAX 64

static struct dg_loop loop;
static struct dg_timer watchdog;
static bool watchdog_fired;
static int stops_left;		/* timers with .stop still to fire */

/* What fired, in order: one letter per callback. */
static char seq[LOG_MAX + 1];
static size_t n_seq;

static void note(char c)
{
	assert_true(n_seq < LOG_MAX);
	seq[n_seq++] = c;
	seq[n_seq] = '\0';
}

static void watchdog_fn(struct dg_loop *l, struct dg_timer *t)
{
	(void)t;
	watchdog_fired = true;
	dg_loop_stop(l);
}

/* Run until a callback stops the loop; the watchdog must not be what
 * stopped it, and the run must end within its second. */
static void run(void)
{
	uint64_t start = dg_now_ns();

	assert_int_equal(dg_loop_run(&loop), 0);
	assert_false(watchdog_fired);
	assert_true(dg_now_ns() - start < WATCHDOG_NS);
}

/* The loop has no restart call: clear its flag as a fresh loop has it,
 * for a test that runs it in phases. */
static void rerun(void)
{
	loop.stop = false;
	run();
}

static int setup(void **state)
{
	(void)state;
	/* A loop stuck in epoll_wait with nothing armed kills the test. */
	alarm(10);
	if (dg_loop_init(&loop))
		return -1;
	dg_timer_init(&watchdog, watchdog_fn);
	watchdog_fired = false;
	stops_left = 1;
	n_seq = 0;
	seq[0] = '\0';
	return dg_timer_set(&loop, &watchdog, loop.now + WATCHDOG_NS);
}

static int teardown(void **state)
{
	(void)state;
	dg_loop_fini(&loop);
	alarm(0);
	return 0;
}

/* ---- timers ---- */

/* A timer whose callback checks it is not early and logs its letter. */
struct ttimer {
	struct dg_timer t;
	char name;
	int fired;
	bool stop;		/* stop the loop when it fires */
	struct ttimer *arm;	/* arm this one from the callback ... */
	uint64_t arm_at;	/* ... for this time */
	int rearm;		/* re-arm itself this many times, 1 ms on */
};

static void ttimer_fn(struct dg_loop *l, struct dg_timer *t)
{
	struct ttimer *tt = (struct ttimer *)t;
	uint64_t now = dg_now_ns();

	/* Never early, by the clock or by the loop's cached time. */
	assert_true(now >= t->when);
	assert_true(l->now >= t->when);
	assert_false(dg_timer_armed(t));
	tt->fired++;
	note(tt->name);
	if (tt->arm)
		assert_int_equal(dg_timer_set(l, &tt->arm->t, tt->arm_at), 0);
	if (tt->rearm-- > 0)
		assert_int_equal(dg_timer_set(l, t, l->now + MS), 0);
	/* On its last firing; the loop stops at the last of those. */
	if (tt->stop && tt->rearm < 0 && --stops_left <= 0)
		dg_loop_stop(l);
}

static void ttimer_init(struct ttimer *tt, char name)
{
	memset(tt, 0, sizeof(*tt));
	dg_timer_init(&tt->t, ttimer_fn);
	tt->name = name;
}

/* Test that timers armed out of order fire in deadline order, each at or
 * after its deadline (never early), and that the loop
 * really waited for the last one. */
static void test_timer_order(void **state)
{
	static const int delay_ms[] = { 4, 1, 5, 3, 2 };
	struct ttimer tt[5];
	uint64_t t0 = loop.now;
	int i;

	(void)state;
	for (i = 0; i < 5; i++) {
		ttimer_init(&tt[i], (char)('a' + i));
		assert_false(dg_timer_armed(&tt[i].t));
		assert_int_equal(dg_timer_set(&loop, &tt[i].t,
					      t0 + delay_ms[i] * MS + MS / 2), 0);
		assert_true(dg_timer_armed(&tt[i].t));
	}
	tt[2].stop = true;
	run();
	assert_string_equal(seq, "bedac");
	for (i = 0; i < 5; i++)
		assert_int_equal(tt[i].fired, 1);
	assert_true(dg_now_ns() >= t0 + 5 * MS + MS / 2);
}

/* Test that a cancelled timer (in the middle of the heap or its last
 * slot) never fires, cancelling twice or one never armed is harmless,
 * and re-arming an armed timer moves it (it fires once, at the new time,
 * not the old). */
static void test_timer_cancel_rearm(void **state)
{
	struct ttimer a, b, c, d, end;
	uint64_t t0 = loop.now;

	(void)state;
	ttimer_init(&a, 'a');
	ttimer_init(&b, 'b');
	ttimer_init(&c, 'c');
	ttimer_init(&d, 'd');
	ttimer_init(&end, 'z');
	dg_timer_cancel(&loop, &d.t);		/* never armed */
	assert_false(dg_timer_armed(&d.t));
	assert_int_equal(dg_timer_set(&loop, &a.t, t0 + 1 * MS), 0);
	assert_int_equal(dg_timer_set(&loop, &b.t, t0 + 2 * MS), 0);
	assert_int_equal(dg_timer_set(&loop, &c.t, t0 + 3 * MS), 0);
	assert_int_equal(dg_timer_set(&loop, &end.t, t0 + 6 * MS), 0);
	end.stop = true;

	dg_timer_cancel(&loop, &b.t);
	assert_false(dg_timer_armed(&b.t));
	dg_timer_cancel(&loop, &b.t);		/* twice */
	/* The latest deadline sits in the heap's last slot. */
	assert_int_equal(dg_timer_set(&loop, &d.t, t0 + 2000 * MS), 0);
	dg_timer_cancel(&loop, &d.t);
	assert_false(dg_timer_armed(&d.t));
	/* a later than c now, c earlier than it was. */
	assert_int_equal(dg_timer_set(&loop, &a.t, t0 + 5 * MS), 0);
	assert_int_equal(dg_timer_set(&loop, &c.t, t0 + 1 * MS), 0);
	assert_true(dg_timer_armed(&a.t));
	run();
	assert_string_equal(seq, "caz");
	assert_int_equal(a.fired, 1);
	assert_int_equal(b.fired, 0);
	assert_int_equal(c.fired, 1);
	assert_int_equal(d.fired, 0);
	/* a fired at its new deadline, not its first. */
	assert_true(a.t.when == t0 + 5 * MS);
}

/* Test that a timer armed from inside a callback fires: one already due
 * in the same pass, one in the future on a later turn; and that a timer
 * re-arming itself fires once per arming. */
static void test_timer_set_in_callback(void **state)
{
	struct ttimer a, due, later, self;
	uint64_t t0 = loop.now;

	(void)state;
	ttimer_init(&a, 'a');
	ttimer_init(&due, 'd');
	ttimer_init(&later, 'l');
	ttimer_init(&self, 's');
	assert_int_equal(dg_timer_set(&loop, &a.t, t0 + 1 * MS), 0);
	a.arm = &due;
	a.arm_at = t0;			/* in the past: due at once */
	due.arm = &later;
	due.arm_at = t0 + 8 * MS;
	assert_int_equal(dg_timer_set(&loop, &self.t, t0 + 2 * MS), 0);
	self.rearm = 2;
	/* Done when both the chain and the self-arming timer are. */
	later.stop = true;
	self.stop = true;
	stops_left = 2;
	run();
	/* A stalled machine may let l come between the s's. */
	assert_int_equal(strlen(seq), 6);
	assert_memory_equal(seq, "ad", 2);
	assert_int_equal(self.fired, 3);
	assert_false(dg_timer_armed(&self.t));
	assert_int_equal(due.fired, 1);
	assert_int_equal(later.fired, 1);
}

/* The many-timers test: each firing logs its deadline. */
static uint64_t fired_when[N_MANY];
static int n_fired;

static void many_fn(struct dg_loop *l, struct dg_timer *t)
{
	assert_true(l->now >= t->when);
	assert_true(n_fired < N_MANY);
	fired_when[n_fired++] = t->when;
	((struct ttimer *)t)->fired++;
}

/* Test the heap under load: N_MANY timers with scattered deadlines (many
 * equal), a third cancelled, some moved (cancelled ones among them, which
 * are armed again by it), fire exactly once each if armed and never if
 * not, in non-decreasing deadline order. */
static void test_timer_many(void **state)
{
	static struct ttimer tt[N_MANY];
	static bool armed[N_MANY];
	struct ttimer end;
	uint64_t t0 = loop.now;
	int i, n_armed = 0;

	(void)state;
	srand(11);
	n_fired = 0;
	for (i = 0; i < N_MANY; i++) {
		memset(&tt[i], 0, sizeof(tt[i]));
		dg_timer_init(&tt[i].t, many_fn);
		assert_int_equal(dg_timer_set(&loop, &tt[i].t,
					      t0 + (uint64_t)(rand() % 50) * MS / 10), 0);
		armed[i] = true;
	}
	for (i = 0; i < N_MANY; i += 3) {
		dg_timer_cancel(&loop, &tt[i].t);
		armed[i] = false;
	}
	for (i = 1; i < N_MANY; i += 7) {
		assert_int_equal(dg_timer_set(&loop, &tt[i].t,
					      t0 + (uint64_t)(rand() % 50) * MS / 10), 0);
		armed[i] = true;
	}
	for (i = 0; i < N_MANY; i++) {
		assert_int_equal(dg_timer_armed(&tt[i].t), armed[i]);
		n_armed += armed[i];
	}
	ttimer_init(&end, 'z');
	end.stop = true;
	assert_int_equal(dg_timer_set(&loop, &end.t, t0 + 6 * MS), 0);
	run();
	assert_string_equal(seq, "z");
	assert_int_equal(n_fired, n_armed);
	for (i = 1; i < n_fired; i++)
		assert_true(fired_when[i - 1] <= fired_when[i]);
	for (i = 0; i < N_MANY; i++)
		assert_int_equal(tt[i].fired, armed[i] ? 1 : 0);
}

/* ---- end-of-turn defers ---- */

struct tdefer {
	struct dg_defer d;
	char name;
	int ran;
	uint64_t turn;		/* the loop's time when it ran */
	struct tdefer *queue;	/* queue this one when run */
	bool stop;
};

static void tdefer_fn(struct dg_loop *l, struct dg_defer *d)
{
	struct tdefer *td = (struct tdefer *)d;

	assert_false(d->queued);
	td->ran++;
	td->turn = l->now;
	note(td->name);
	if (td->queue)
		dg_defer(l, &td->queue->d);
	if (td->stop)
		dg_loop_stop(l);
}

static void tdefer_init(struct tdefer *td, char name)
{
	memset(td, 0, sizeof(*td));
	dg_defer_init(&td->d, tdefer_fn);
	td->name = name;
}

/* A timer that queues defers from its callback. */
struct dtimer {
	struct dg_timer t;
	char name;
	struct tdefer *d[3];
	int times[3];		/* queue d[i] this many times */
	struct dtimer *next;	/* arm it 1 ms on: a later turn, surely */
	bool stop;
};

static void dtimer_fn(struct dg_loop *l, struct dg_timer *t)
{
	struct dtimer *dt = (struct dtimer *)t;
	int i, k;

	note(dt->name);
	for (i = 0; i < 3; i++)
		for (k = 0; dt->d[i] && k < dt->times[i]; k++)
			dg_defer(l, &dt->d[i]->d);
	if (dt->next)
		assert_int_equal(dg_timer_set(l, &dt->next->t, l->now + MS), 0);
	if (dt->stop)
		dg_loop_stop(l);
}

static void dtimer_init(struct dtimer *dt, char name)
{
	memset(dt, 0, sizeof(*dt));
	dg_timer_init(&dt->t, dtimer_fn);
	dt->name = name;
}

static void dtimer_arm(struct dtimer *dt, char name, uint64_t when)
{
	dtimer_init(dt, name);
	assert_int_equal(dg_timer_set(&loop, &dt->t, when), 0);
}

/* Test that a defer queued three times in a turn runs once, at the end of
 * that turn (after every timer due in it, not at once), and again in a
 * later turn that queues it again. */
static void test_defer_once_per_turn(void **state)
{
	struct dtimer a, b, c;
	struct tdefer d, e;
	uint64_t t0 = loop.now;

	(void)state;
	tdefer_init(&d, 'D');
	tdefer_init(&e, 'E');
	/* a and b are due in the same turn (one deadline); b arms c for a
	 * later one. */
	dtimer_arm(&a, 'a', t0 + 1 * MS);
	dtimer_arm(&b, 'b', t0 + 1 * MS);
	a.d[0] = &d;
	a.times[0] = 3;
	b.d[0] = &d;
	b.times[0] = 1;
	b.d[1] = &e;
	b.times[1] = 2;
	dtimer_init(&c, 'c');
	b.next = &c;
	c.d[0] = &d;
	c.times[0] = 2;
	c.stop = true;
	run();
	/* Defers run newest first; the contract is only "once, at the
	 * end of the turn". */
	assert_true(!strcmp(seq, "abDEcD") || !strcmp(seq, "abEDcD"));
	assert_int_equal(d.ran, 2);
	assert_int_equal(e.ran, 1);
	assert_false(d.d.queued);
	assert_false(e.d.queued);
}

/* Test that a defer queued by a running defer runs in the same pass (the
 * loop's time has not moved on), and that the pass ends: the loop stops
 * from the last one. */
static void test_defer_from_defer(void **state)
{
	struct tdefer d, e, f;
	struct dtimer a;

	(void)state;
	tdefer_init(&d, 'D');
	tdefer_init(&e, 'E');
	tdefer_init(&f, 'F');
	d.queue = &e;
	e.queue = &f;
	f.stop = true;
	dtimer_arm(&a, 'a', loop.now + 1 * MS);
	a.d[0] = &d;
	a.times[0] = 1;
	run();
	assert_string_equal(seq, "aDEF");
	assert_int_equal(d.turn, e.turn);
	assert_int_equal(e.turn, f.turn);
	assert_int_equal(f.ran, 1);
}

/* Test that defers still queued when the loop is torn down run then
 * (teardown frees through them), once. */
static void test_defer_at_fini(void **state)
{
	struct tdefer d;

	(void)state;
	tdefer_init(&d, 'D');
	dg_defer(&loop, &d.d);
	dg_defer(&loop, &d.d);
	assert_true(d.d.queued);
	dg_loop_fini(&loop);
	assert_int_equal(d.ran, 1);
	assert_string_equal(seq, "D");
	/* A fresh loop for teardown. */
	assert_int_equal(dg_loop_init(&loop), 0);
}

/* ---- io ---- */

struct tio {
	struct dg_io io;
	int fd;			/* pipe end */
	int calls;
	uint32_t events;	/* of the last call */
	void *arg;		/* of the last call */
	bool drain, stop;
	struct tio *del;	/* delete this one's io when called */
	struct tdefer *queue;	/* queue this when called */
};

static void tio_fn(struct dg_loop *l, uint32_t events, void *arg)
{
	struct tio *t = arg;
	char buf[16];

	t->calls++;
	t->events = events;
	t->arg = arg;
	note('i');
	if (t->drain)
		while (read(t->fd, buf, sizeof(buf)) > 0)
			;
	if (t->del)
		dg_io_del(l, &t->del->io);
	if (t->queue)
		dg_defer(l, &t->queue->d);
	if (t->stop)
		dg_loop_stop(l);
}

static int pipe_fds[2][2];

static void pipes_open(void)
{
	int i;

	for (i = 0; i < 2; i++)
		assert_int_equal(pipe2(pipe_fds[i], O_NONBLOCK | O_CLOEXEC), 0);
}

static void pipes_close(void)
{
	int i;

	for (i = 0; i < 2; i++) {
		close(pipe_fds[i][0]);
		close(pipe_fds[i][1]);
	}
}

static void poke(int i)
{
	assert_int_equal(write(pipe_fds[i][1], "x", 1), 1);
}

/* A timer that stops the loop: the window in which an event that must
 * not come has a chance to come. A slow machine only makes it wider. */
static struct dtimer window;

static void run_window(uint64_t ns)
{
	dtimer_arm(&window, 'w', dg_now_ns() + ns);
	window.stop = true;
	rerun();
}

/* Test that a readable fd calls its function with EPOLLIN and its arg,
 * and keeps calling while it stays readable (level-triggered). */
static void test_io_read(void **state)
{
	struct tio t = { .stop = true };

	(void)state;
	pipes_open();
	t.fd = pipe_fds[0][0];
	assert_int_equal(dg_io_add(&loop, &t.io, t.fd, EPOLLIN, tio_fn, &t), 0);
	poke(0);
	run();
	assert_int_equal(t.calls, 1);
	assert_ptr_equal(t.arg, &t);
	assert_true(t.events & EPOLLIN);
	/* Not drained: readable still, called again. */
	rerun();
	assert_int_equal(t.calls, 2);
	dg_io_del(&loop, &t.io);
	pipes_close();
}

/* Test that dg_io_mod disarms (0: a pending byte calls nothing), re-arms
 * (the byte is then seen) and switches to EPOLLOUT. */
static void test_io_mod(void **state)
{
	struct tio r = { .drain = true, .stop = true };
	struct tio w = { .stop = true };

	(void)state;
	pipes_open();
	r.fd = pipe_fds[0][0];
	w.fd = pipe_fds[0][1];
	assert_int_equal(dg_io_add(&loop, &r.io, r.fd, EPOLLIN, tio_fn, &r), 0);
	assert_int_equal(dg_io_mod(&loop, &r.io, 0), 0);
	assert_int_equal(r.io.events, 0);
	poke(0);
	r.stop = false;
	run_window(20 * MS);
	assert_int_equal(r.calls, 0);

	r.stop = true;
	assert_int_equal(dg_io_mod(&loop, &r.io, EPOLLIN), 0);
	/* Asking again for what is armed is fine too. */
	assert_int_equal(dg_io_mod(&loop, &r.io, EPOLLIN), 0);
	rerun();
	assert_int_equal(r.calls, 1);
	assert_true(r.events & EPOLLIN);

	/* The write end: nothing armed, then writable. */
	assert_int_equal(dg_io_add(&loop, &w.io, w.fd, 0, tio_fn, &w), 0);
	assert_int_equal(dg_io_mod(&loop, &w.io, EPOLLOUT), 0);
	rerun();
	assert_int_equal(w.calls, 1);
	assert_true(w.events & EPOLLOUT);
	assert_false(w.events & EPOLLIN);
	dg_io_del(&loop, &r.io);
	dg_io_del(&loop, &w.io);
	pipes_close();
}

/* Test that an io deleted by another's callback in the same batch is not
 * called (both were ready: exactly one call), that a deleted io hears
 * nothing after, and that its fd can be added again. */
static void test_io_del(void **state)
{
	struct tio a = { .drain = true }, b = { .drain = true };

	(void)state;
	pipes_open();
	a.fd = pipe_fds[0][0];
	b.fd = pipe_fds[1][0];
	a.del = &b;
	b.del = &a;
	assert_int_equal(dg_io_add(&loop, &a.io, a.fd, EPOLLIN, tio_fn, &a), 0);
	assert_int_equal(dg_io_add(&loop, &b.io, b.fd, EPOLLIN, tio_fn, &b), 0);
	poke(0);
	poke(1);
	run_window(20 * MS);
	assert_int_equal(a.calls + b.calls, 1);
	/* Whichever ran deleted the other; delete it too. */
	dg_io_del(&loop, &a.io);
	dg_io_del(&loop, &b.io);
	assert_null(a.io.fn);
	assert_null(b.io.fn);
	poke(0);
	poke(1);
	run_window(20 * MS);
	assert_int_equal(a.calls + b.calls, 1);

	a.del = NULL;
	a.stop = true;
	assert_int_equal(dg_io_add(&loop, &a.io, a.fd, EPOLLIN, tio_fn, &a), 0);
	rerun();
	assert_int_equal(a.calls + b.calls, 2);
	dg_io_del(&loop, &a.io);
	pipes_close();
}

/* Test that adding a bad fd or one already added says so (-errno). */
static void test_io_add_errors(void **state)
{
	struct tio a = { 0 }, b = { 0 };

	(void)state;
	pipes_open();
	assert_int_equal(dg_io_add(&loop, &a.io, -1, EPOLLIN, tio_fn, &a), -EBADF);
	assert_int_equal(dg_io_add(&loop, &a.io, pipe_fds[0][0], EPOLLIN, tio_fn, &a), 0);
	assert_int_equal(dg_io_add(&loop, &b.io, pipe_fds[0][0], EPOLLIN, tio_fn, &b),
			 -EEXIST);
	dg_io_del(&loop, &a.io);
	pipes_close();
}

/* ---- stop ---- */

/* Test that dg_loop_stop from an io callback ends the run after that
 * turn: its defers still run, a timer due later does not, and run
 * returns 0. */
static void test_stop(void **state)
{
	struct tio t = { .drain = true, .stop = true };
	struct tdefer d;
	struct ttimer later;

	(void)state;
	pipes_open();
	tdefer_init(&d, 'D');
	ttimer_init(&later, 'l');
	t.fd = pipe_fds[0][0];
	t.queue = &d;
	assert_int_equal(dg_timer_set(&loop, &later.t, loop.now + 500 * MS), 0);
	assert_int_equal(dg_io_add(&loop, &t.io, t.fd, EPOLLIN, tio_fn, &t), 0);
	poke(0);
	run();
	assert_string_equal(seq, "iD");
	assert_int_equal(later.fired, 0);
	assert_true(dg_timer_armed(&later.t));
	dg_io_del(&loop, &t.io);
	pipes_close();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_timer_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_timer_cancel_rearm, setup, teardown),
		cmocka_unit_test_setup_teardown(test_timer_set_in_callback, setup, teardown),
		cmocka_unit_test_setup_teardown(test_timer_many, setup, teardown),
		cmocka_unit_test_setup_teardown(test_defer_once_per_turn, setup, teardown),
		cmocka_unit_test_setup_teardown(test_defer_from_defer, setup, teardown),
		cmocka_unit_test_setup_teardown(test_defer_at_fini, setup, teardown),
		cmocka_unit_test_setup_teardown(test_io_read, setup, teardown),
		cmocka_unit_test_setup_teardown(test_io_mod, setup, teardown),
		cmocka_unit_test_setup_teardown(test_io_del, setup, teardown),
		cmocka_unit_test_setup_teardown(test_io_add_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stop, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
