# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# shellcheck shell=bash
#
# Running the dotguard role in a test (tests/ansible/test_role.sh,
# tests/net/cases/ansible_role.sh). Source it, call ans_env DIR, then run
#   "${ANS_PLAYBOOK[@]}" -e @VARS.json
# from DIR, inside tests/ansible/sandbox.sh so the real / is never written.

ANS_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ANS_REPO=$(cd "$ANS_LIB_DIR/../.." && pwd)
# shellcheck disable=SC2034 # for the scripts that source this file
ANS_SANDBOX=$ANS_LIB_DIR/sandbox.sh
ANS_PLAYBOOK=()

# ans_env DIR: ansible's environment for a test. All its state (HOME,
# local and remote temp dirs) lives under DIR; no ansible.cfg is read
# but DIR/ansible.cfg (roles from this tree); no colour; no ANSIBLE_*
# variable of the caller's leaks in. DIR/play.yml runs the role on
# localhost; ANS_PLAYBOOK is the command that runs it (-c local).
ans_env()
{
	local dir=$1 v
	for v in $(compgen -e | grep '^ANSIBLE_'); do
		unset "$v"
	done
	mkdir -p "$dir/home" "$dir/ans/local" "$dir/ans/remote" || return 1
	cat >"$dir/ansible.cfg" <<EOF
[defaults]
roles_path = $ANS_REPO/tools/ansible/roles
retry_files_enabled = false
interpreter_python = /usr/bin/python3
[connection]
pipelining = true
EOF
	printf -- '- hosts: localhost\n  gather_facts: false\n  roles: [dotguard]\n' >"$dir/play.yml"
	export HOME=$dir/home ANSIBLE_CONFIG=$dir/ansible.cfg ANSIBLE_NOCOLOR=1 \
		ANSIBLE_FORCE_COLOR=0 ANSIBLE_HOME=$dir/ans \
		ANSIBLE_LOCAL_TEMP=$dir/ans/local ANSIBLE_REMOTE_TEMP=$dir/ans/remote
	# shellcheck disable=SC2034 # for the scripts that source this file
	ANS_PLAYBOOK=(ansible-playbook -i 'localhost,' -c local
		-e ansible_python_interpreter=/usr/bin/python3 "$dir/play.yml")
}

# ans_stage DIR [MAKE-ARGS...]: `make install DESTDIR=DIR PREFIX=/usr` with
# the binary already built ($OUT/dotguard: never rebuilt here, and the
# ./dotguard symlink left alone); the make output goes to DIR.log.
ans_stage()
{
	local dir=$1 out=${OUT:-.output}
	shift
	(cd "$ANS_REPO" && "${MAKE:-make}" --no-print-directory SAN="${SAN:-0}" OUT="$out" \
		-o "$out/dotguard" -o dotguard install DESTDIR="$dir" PREFIX=/usr "$@") \
		>"$dir.log" 2>&1
}
