# What the crash tests share (tests/crash/crashtest.sh and
# crashtest_nodes.sh, which source it after their settings): where the
# sources are, the programs they drive, and their working directory.
#
# here, src: this directory and the sources' root; REDRESS and
# RD_CRASHLOAD default to the build's (make crashtest sets them).

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
src=$(cd "$here/../.." && pwd)
REDRESS=${REDRESS:-$src/build/redress}
RD_CRASHLOAD=${RD_CRASHLOAD:-$(dirname "$REDRESS")/tests/rd-crashload}

# crash_setup NAME COMMAND...: check that REDRESS and RD_CRASHLOAD are
# built and that each COMMAND is installed (exit 2 saying which is not),
# then make $work, a directory of the run's own (redress-NAME-XXXXXX in
# TMPDIR), and export the paths of the sources' workflows, evidence kinds
# and policy for every redress the test starts.
crash_setup() {
	local name=$1 tool cmd
	shift
	for tool in "$REDRESS" "$RD_CRASHLOAD"; do
		if [ ! -x "$tool" ]; then
			echo "crashtest: $tool is missing; build first (make build)" >&2
			exit 2
		fi
	done
	for cmd in "$@"; do
		command -v "$cmd" >/dev/null || { echo "crashtest: $cmd is needed" >&2; exit 2; }
	done
	work=$(mktemp -d "${TMPDIR:-/tmp}/redress-$name-XXXXXX")
	export REDRESS_WORKFLOWS="$src/workflows"
	export REDRESS_KINDS="$src/evidence/kinds.json"
	export REDRESS_POLICY="$src/workflows/policy.json"
}

# mirror_fsck GIT_DIR OUT: git fsck --strict of a live mirror, its output
# in OUT; fails as git fsck does. The server goes on compacting the mirror
# meanwhile, and drops the packs a merge replaced a minute ago: one that
# fsck listed just before can be gone when it opens its index ("packfile
# P index not opened", P no longer there). Such a run, and only such a
# run, is made again (up to 3 times): a pack that is still there and
# unreadable, or any other error, fails at once.
mirror_fsck() {
	local git_dir=$1 out=$2 try line pack vanished
	for try in 1 2 3; do
		git --git-dir="$git_dir" fsck --strict --no-progress >"$out" 2>&1 && return 0
		vanished=1
		while IFS= read -r line; do
			case "$line" in
			"error: packfile "*" index not opened")
				pack=${line#error: packfile }
				pack=${pack% index not opened}
				[ -e "$pack" ] && vanished=0 ;;
			"notice: "*) ;;
			*) vanished=0 ;;
			esac
		done <"$out"
		[ "$vanished" = 1 ] || return 1
	done
	return 1
}
