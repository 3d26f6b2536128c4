# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# dotguard: `make help` lists the targets. Quiet by default, V=1 shows commands.

ifeq ($(V),1)
Q =
msg =
else
Q = @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

SAN ?= 0
ARCH := $(shell uname -m | sed 's/x86_64/x86/;s/aarch64/arm64/')
CC ?= gcc
CLANG ?= clang
BPFTOOL ?= bpftool
# make install: every path below is prefixed with $(DESTDIR) when copying,
# never inside the files. SYSCONFDIR stays /etc whatever PREFIX is: that
# is where dotguard looks by default. UNITDIR: $(PREFIX)/lib/systemd/system
# is on systemd's search path for PREFIX=/usr and /usr/local; for any other
# PREFIX set UNITDIR=/etc/systemd/system (and SYSUSERSDIR=/etc/sysusers.d).
PREFIX ?= /usr/local
DESTDIR ?=
SBINDIR ?= $(PREFIX)/sbin
SYSCONFDIR ?= /etc
UNITDIR ?= $(PREFIX)/lib/systemd/system
SYSUSERSDIR ?= $(PREFIX)/lib/sysusers.d
MANDIR ?= $(PREFIX)/share/man

ifeq ($(SAN),1)
OUT := .output-san
SANFLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
else
OUT := .output
SANFLAGS :=
endif

CFLAGS ?= -O2 -g
CFLAGS += -std=gnu11 -Wall -Wextra -Werror -I$(OUT) -I. -Iinclude -Iuser $(SANFLAGS)
# Each compile writes the headers it read to $@.d (-MP: a deleted header
# is not an error), included below, so an object is rebuilt when a header
# it includes changes, and only then.
DEPFLAGS = -MMD -MP -MF $@.d
LDFLAGS += $(SANFLAGS)
LDLIBS := -lxdp -lbpf -lmnl -lelf -lz -lwolfssl
BPF_CFLAGS := -g -O2 -target bpf -D__TARGET_ARCH_$(ARCH) -Wall -Werror -I. -Iinclude

BPF_SRCS := $(wildcard bpf/*.bpf.c)
BPF_OBJS := $(patsubst bpf/%.bpf.c,$(OUT)/%.bpf.o,$(BPF_SRCS))
SKELS := $(patsubst bpf/%.bpf.c,$(OUT)/%.skel.h,$(BPF_SRCS))

USER_SRCS := $(wildcard user/*.c)
USER_OBJS := $(patsubst user/%.c,$(OUT)/user/%.o,$(USER_SRCS))
LIB := $(OUT)/libdotguard.a

UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(patsubst tests/unit/%.c,$(OUT)/tests/unit/%,$(UNIT_SRCS))
BPFT_SRCS := $(wildcard tests/bpf/test_*.c)
BPFT_BINS := $(patsubst tests/bpf/%.c,$(OUT)/tests/bpf/%,$(BPFT_SRCS))
FUZZ_SRCS := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BINS := $(patsubst tests/fuzz/%.c,$(OUT)/fuzz/%,$(FUZZ_SRCS))
FUZZ_SECONDS ?= 10
# Helpers the netns cases run (tests/net/NAME.c -> $(OUT)/tests/net_NAME).
NET_HELPERS := $(patsubst tests/net/%.c,$(OUT)/tests/net_%,$(wildcard tests/net/*.c))
BENCH_SRCS := $(wildcard tools/bench/*.c)
BENCH_BINS := $(patsubst tools/bench/%.c,$(OUT)/bench/%,$(BENCH_SRCS))

DEB_PKGS := clang llvm bpftool libbpf-dev libxdp-dev libwolfssl-dev libmnl-dev \
	libelf-dev zlib1g-dev pkg-config libcmocka-dev libclang-rt-14-dev \
	iproute2 iputils-ping tcpdump bind9-dnsutils knot-dnsutils unbound dnsperf openssl \
	python3 python3-scapy ethtool groff-base systemd ansible-core
# Only the bench-dot and bench-redirect targets need these: the peers they
# measure (Stubby; nftables for bench-redirect's DNAT guard) and their plots.
BENCH_PKGS := stubby gnuplot-nox nftables

.DELETE_ON_ERROR:
# Generated, but not throwaway: keep them between builds.
.SECONDARY: $(BPF_OBJS) $(SKELS)
.PHONY: dotguard all help deps bench-deps install-pkgs check-tools vmlinux test unit-test bpf-test fuzz-test \
	net-test fuzz bench demo clean install uninstall

all: dotguard

help:
	@echo 'dotguard make targets:'
	@echo '  all (default)  build the BPF objects, skeletons and ./dotguard'
	@echo '  deps           apt-get install what the build and tests need'
	@echo '  check-tools    report clang, bpftool and libbpf versions'
	@echo '  test           every test; ends with "N passed, N failed"'
	@echo '  SAN=1 test     the same under ASan + UBSan'
	@echo '  unit-test      only the cmocka unit tests (tests/unit)'
	@echo '  bpf-test       only the BPF_PROG_TEST_RUN tables (tests/bpf); needs root'
	@echo '  fuzz-test      only the fuzz targets, FUZZ_SECONDS (10) each'
	@echo '  net-test       only the netns cases (tests/net), or CASES="name ..."; needs root'
	@echo '  fuzz           build the fuzz targets'
	@echo '  demo           a throwaway netns world showing the guard at work'
	@echo '  bench          per-packet cost of the guard programs vs no-op'
	@echo '  bench-dot      DoT forwarders side by side: dotguard, Stubby, unbound'
	@echo '  bench-redirect   rogue-server queries through the guard vs the stub vs DNAT+Stubby'
	@echo '  vmlinux        regenerate vmlinux.h from this kernel'
	@echo '  install        binary, /etc/dotguard/dotguard.conf (kept if present), systemd unit,'
	@echo '                 sysusers.d entry (the dotguard user), man pages'
	@echo '  uninstall      remove them again (a config you changed stays)'
	@echo '  clean          remove build output'
	@echo 'Variables: V=1 (show commands), SAN=1, FUZZ_SECONDS, CASES (net-test)'
	@echo '  install: DESTDIR, PREFIX (/usr/local), SBINDIR ($$(PREFIX)/sbin), SYSCONFDIR (/etc),'
	@echo '           UNITDIR ($$(PREFIX)/lib/systemd/system), SYSUSERSDIR ($$(PREFIX)/lib/sysusers.d),'
	@echo '           MANDIR ($$(PREFIX)/share/man)'

deps:
	$(Q)$(MAKE) --no-print-directory install-pkgs PKGS='$(DEB_PKGS)'
	$(Q)$(MAKE) --no-print-directory check-tools

bench-deps:
	$(Q)$(MAKE) --no-print-directory install-pkgs PKGS='$(BENCH_PKGS)'

# install-pkgs PKGS='...': apt-get install those not yet installed.
install-pkgs:
	$(Q)missing=$$(for p in $(PKGS); do \
		dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q 'ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "  DEPS     installing:" $$missing; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
			apt-get install -y -qq --no-install-recommends $$missing >/dev/null || exit 1; \
	else echo "  DEPS     all present"; fi

check-tools:
	$(Q)command -v $(CLANG) >/dev/null || { echo "error: clang not found: run 'make deps'"; exit 1; }
	$(Q)command -v $(BPFTOOL) >/dev/null || { echo "error: bpftool not found: run 'make deps'"; exit 1; }
	$(Q)pkg-config --exists libbpf || { echo "error: libbpf not found: run 'make deps'"; exit 1; }
	$(Q)pkg-config --exists libxdp || { echo "error: libxdp not found: run 'make deps'"; exit 1; }
	$(Q)echo "  TOOLS    $$($(CLANG) --version | head -1); $$($(BPFTOOL) version | head -1); libbpf $$(pkg-config --modversion libbpf); libxdp $$(pkg-config --modversion libxdp)"

vmlinux:
	$(call msg,GEN,vmlinux.h)
	$(Q)tools/gen-vmlinux.sh vmlinux.h

$(OUT) $(OUT)/user $(OUT)/tests $(OUT)/tests/unit $(OUT)/tests/bpf $(OUT)/fuzz $(OUT)/bench:
	$(Q)mkdir -p $@

$(OUT)/%.bpf.o: bpf/%.bpf.c $(OUT)/%.bpf.o.d vmlinux.h | $(OUT)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) $(DEPFLAGS) -c $< -o $@
	$(Q)touch $@ # clang writes the .d after the object: keep the object newer

# bpftool's messages are noise when it works and the answer when it does
# not: kept aside, shown only on failure.
$(OUT)/%.skel.h: $(OUT)/%.bpf.o
	$(call msg,SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name dg_$(subst guard_,,$*) > $@ 2> $@.err || \
		{ cat $@.err >&2; rm -f $@.err; echo "error: bpftool gen skeleton $< failed" >&2; exit 1; }
	$(Q)rm -f $@.err

# Skeletons are order-only: the first build waits for them (loader.h
# includes them); after that the .d files say who includes which.
$(OUT)/user/%.o: user/%.c $(OUT)/user/%.o.d | $(OUT)/user $(SKELS)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) $(DEPFLAGS) -c $< -o $@

$(LIB): $(filter-out $(OUT)/user/main.o,$(USER_OBJS))
	$(call msg,AR,$@)
	$(Q)rm -f $@ && $(AR) rcs $@ $^

# ./dotguard points at the build just made (plain or SAN=1), so tests and
# users run one path whichever flavour they built last.
dotguard: $(OUT)/dotguard
	$(Q)ln -sfn $(OUT)/dotguard dotguard

$(OUT)/dotguard: $(OUT)/user/main.o $(LIB)
	$(call msg,LD,$@)
	$(Q)$(CC) $(LDFLAGS) $^ $(LDLIBS) -o $@

$(OUT)/tests/unit/test_%: tests/unit/test_%.c $(OUT)/tests/unit/test_%.d $(LIB) | $(OUT)/tests/unit $(SKELS)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -Itests/bpf $(DEPFLAGS) $(LDFLAGS) $< $(LIB) -lcmocka $(LDLIBS) -o $@

$(OUT)/tests/bpf/test_%: tests/bpf/test_%.c $(OUT)/tests/bpf/test_%.d $(LIB) | $(OUT)/tests/bpf $(SKELS)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) $(DEPFLAGS) -Itests/bpf $(LDFLAGS) $< $(LIB) $(LDLIBS) -o $@

# Helpers the netns integration tests run (tests/net/cases/*.sh).
$(OUT)/tests/net_%: tests/net/%.c $(OUT)/tests/net_%.d | $(OUT)/tests
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) $(DEPFLAGS) $(LDFLAGS) $< -lbpf -o $@

# libFuzzer targets are always built with clang and its sanitizers; each
# links the sources its parser needs (FUZZ_SRCS_<name>), compiled one
# object each under $(FUZZ_OBJ) so each gets its own .d file.
FUZZ_SRCS_fuzz_config := user/config.c user/digest.c user/log.c
FUZZ_SRCS_fuzz_parse :=
FUZZ_SRCS_fuzz_dns := user/dns_wire.c user/log.c
FUZZ_SRCS_fuzz_frame := user/frame.c
FUZZ_SRCS_fuzz_reasm := user/frame.c user/reasm.c
FUZZ_CFLAGS := -std=gnu11 -g -O1 -Wall -Wextra -Werror -Iinclude -Iuser -I. \
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
FUZZ_OBJ := $(OUT)/fuzz-obj
FUZZ_OBJS := $(sort $(patsubst %.c,$(FUZZ_OBJ)/%.o,$(FUZZ_SRCS) \
	$(foreach f,$(FUZZ_SRCS),$(FUZZ_SRCS_$(basename $(notdir $(f)))))))
.SECONDARY: $(FUZZ_OBJS)
$(FUZZ_OBJ)/%.o: %.c $(FUZZ_OBJ)/%.o.d
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(FUZZ_CFLAGS) $(DEPFLAGS) -c $< -o $@
	$(Q)touch $@ # as for the BPF objects

.SECONDEXPANSION:
# (No % in the second expansion: make would put the stem there.)
$(OUT)/fuzz/%: $(FUZZ_OBJ)/tests/fuzz/%.o $$(foreach c,$$(FUZZ_SRCS_$$*),$(FUZZ_OBJ)/$$(basename $$(c)).o) | $(OUT)/fuzz
	$(call msg,FUZZ,$@)
	$(Q)$(CLANG) $(FUZZ_CFLAGS) $^ $(LDLIBS) -o $@

$(OUT)/bench/%: tools/bench/%.c $(OUT)/bench/%.d $(LIB) | $(OUT)/bench $(SKELS)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) $(DEPFLAGS) -Itests/bpf $(LDFLAGS) $< $(LIB) $(LDLIBS) -o $@

fuzz: $(FUZZ_BINS)

# Each tier alone, through the same runner as `make test`, so each ends
# with the same "N passed, N failed" line and fails as it does.
RUN_TESTS = OUT=$(OUT) SAN=$(SAN) FUZZ_SECONDS=$(FUZZ_SECONDS) tests/run.sh

test: dotguard $(UNIT_BINS) $(BPFT_BINS) $(FUZZ_BINS) $(NET_HELPERS)
	$(Q)$(RUN_TESTS)

unit-test: $(UNIT_BINS)
	$(Q)$(RUN_TESTS) unit

bpf-test: $(BPFT_BINS)
	$(Q)$(RUN_TESTS) bpf

fuzz-test: $(FUZZ_BINS)
	$(Q)$(RUN_TESTS) fuzz

# CASES="redirect_host dot_answers": only those tests/net/cases.
net-test: dotguard $(NET_HELPERS)
	$(Q)NET_CASES='$(CASES)' $(RUN_TESTS) net

bench: dotguard $(BENCH_BINS)
	$(Q)for b in $(BENCH_BINS); do $$b || exit 1; done

# DoT forwarders side by side (dotguard, Stubby, unbound) against one
# unbound upstream in netns; table and latency.png in $(OUT)/bench-dot.
.PHONY: bench-dot
bench-dot: deps bench-deps dotguard
	$(Q)DOTGUARD=$(CURDIR)/$(OUT)/dotguard OUTDIR=$(OUT)/bench-dot tools/bench/dot_bench.sh

# Queries sent past the stub to a rogue server, answered through the guard
# (tc redirect, AF_XDP, DoT), against the stub path and a DNAT + Stubby
# guard, one unbound upstream; table and latency.png in $(OUT)/bench-redirect.
.PHONY: bench-redirect
bench-redirect: deps bench-deps dotguard
	$(Q)DOTGUARD=$(CURDIR)/$(OUT)/dotguard OUTDIR=$(OUT)/bench-redirect tools/bench/redirect_bench.sh

demo: deps dotguard
	$(Q)tools/demo.sh

CONF_DIR := $(DESTDIR)$(SYSCONFDIR)/dotguard
INSTALLED_CONF := $(CONF_DIR)/dotguard.conf
INSTALLED := $(DESTDIR)$(SBINDIR)/dotguard $(DESTDIR)$(UNITDIR)/dotguard.service \
	$(DESTDIR)$(SYSUSERSDIR)/dotguard.conf \
	$(DESTDIR)$(MANDIR)/man8/dotguard.8 $(DESTDIR)$(MANDIR)/man5/dotguard.conf.5

# The unit names the installed paths (without DESTDIR). A config already
# there is the administrator's: never overwritten. Installed into the
# real / (no DESTDIR), the dotguard user is created at once; a package
# built with DESTDIR leaves that to systemd-sysusers at boot or in its
# postinst.
install: dotguard
	$(call msg,INSTALL,$(DESTDIR)$(SBINDIR)/dotguard)
	$(Q)install -D -m 0755 $(OUT)/dotguard $(DESTDIR)$(SBINDIR)/dotguard
	$(call msg,INSTALL,$(DESTDIR)$(UNITDIR)/dotguard.service)
	$(Q)sed -e 's|@SBINDIR@|$(SBINDIR)|g' -e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g' \
		tools/systemd/dotguard.service >$(OUT)/dotguard.service
	$(Q)install -D -m 0644 $(OUT)/dotguard.service $(DESTDIR)$(UNITDIR)/dotguard.service
	$(call msg,INSTALL,$(DESTDIR)$(SYSUSERSDIR)/dotguard.conf)
	$(Q)install -D -m 0644 tools/systemd/dotguard.sysusers $(DESTDIR)$(SYSUSERSDIR)/dotguard.conf
	$(call msg,INSTALL,$(DESTDIR)$(MANDIR)/man8/dotguard.8 man5/dotguard.conf.5)
	$(Q)install -D -m 0644 man/dotguard.8 $(DESTDIR)$(MANDIR)/man8/dotguard.8
	$(Q)install -D -m 0644 man/dotguard.conf.5 $(DESTDIR)$(MANDIR)/man5/dotguard.conf.5
	$(Q)install -d -m 0755 $(CONF_DIR)
	$(Q)if [ -e $(INSTALLED_CONF) ] || [ -L $(INSTALLED_CONF) ]; then \
		if cmp -s tools/dotguard.conf $(INSTALLED_CONF); then \
			printf '  %-8s %s\n' INSTALL "$(INSTALLED_CONF) (unchanged)"; \
		else \
			printf '  %-8s %s\n' KEEP "$(INSTALLED_CONF): yours, left as it is (the shipped default is tools/dotguard.conf)"; \
		fi; \
	else \
		printf '  %-8s %s\n' INSTALL "$(INSTALLED_CONF)"; \
		install -m 0644 tools/dotguard.conf $(INSTALLED_CONF) || exit 1; \
	fi
	$(Q)if [ -z "$(DESTDIR)" ]; then \
		if command -v systemd-sysusers >/dev/null; then \
			printf '  %-8s %s\n' SYSUSERS "the dotguard user"; \
			systemd-sysusers $(SYSUSERSDIR)/dotguard.conf || exit 1; \
		else \
			printf '  %-8s %s\n' NOTE "no systemd-sysusers: create the user with useradd --system --no-create-home --shell /usr/sbin/nologin dotguard"; \
		fi; \
	fi

# Removes what install put there; a config that differs from the shipped
# default is the administrator's and stays.
uninstall:
	$(Q)for f in $(INSTALLED); do \
		if [ -e "$$f" ] || [ -L "$$f" ]; then \
			printf '  %-8s %s\n' REMOVE "$$f"; rm -f "$$f" || exit 1; \
		fi; \
	done
	$(Q)if [ -e $(INSTALLED_CONF) ] || [ -L $(INSTALLED_CONF) ]; then \
		if cmp -s tools/dotguard.conf $(INSTALLED_CONF); then \
			printf '  %-8s %s\n' REMOVE "$(INSTALLED_CONF)"; \
			rm -f $(INSTALLED_CONF); \
		else \
			printf '  %-8s %s\n' KEEP "$(INSTALLED_CONF): changed from the shipped default, left in place"; \
		fi; \
	fi
	$(Q)[ ! -d $(CONF_DIR) ] || rmdir --ignore-fail-on-non-empty $(CONF_DIR)

clean:
	$(call msg,CLEAN,)
	$(Q)rm -rf .output .output-san dotguard

# What each object and test binary was built from (DEPFLAGS). Each .d
# is also a prerequisite of its target, named here so that make does not
# take it for an intermediate file: a missing one (a tree built before
# DEPFLAGS, a deleted file) rebuilds its target once, which writes it.
DEPFILES := $(addsuffix .d,$(BPF_OBJS) $(USER_OBJS) $(UNIT_BINS) $(BPFT_BINS) \
	$(NET_HELPERS) $(FUZZ_OBJS) $(BENCH_BINS))
$(DEPFILES):
include $(wildcard $(DEPFILES))
