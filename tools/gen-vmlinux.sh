#!/bin/sh
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Regenerate vmlinux.h (kernel types for CO-RE BPF) from the running kernel.
set -eu
out=${1:-vmlinux.h}
btf=/sys/kernel/btf/vmlinux
[ -r "$btf" ] || { echo "error: $btf missing: the kernel needs CONFIG_DEBUG_INFO_BTF=y" >&2; exit 1; }
bpftool btf dump file "$btf" format c > "$out.tmp"
mv "$out.tmp" "$out"
