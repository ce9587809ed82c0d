#!/usr/bin/env bash
# Runs the shell blocks of one Markdown document, in order, in one shell,
# and checks them against what the document shows. Used by
# tests/e2e/docs.sh, which gives it a fresh copy of the repository root as
# the working directory and `make run`'s server (examples/run.sh) on a free
# port; the convention it enforces is written in docs/README.md.
#
#   doctest.bash [--list] DOC.md [NAME]
#
# DOC.md is read; NAME (default DOC.md) is how failures name it. The
# server's address is $DOC_TEST_ADDR (HOST:PORT); `127.0.0.1:8080` in a
# command or a shown output stands for it. A console command `make run`
# is not run: the output of the server already running
# ($DOC_TEST_SERVER_OUTPUT) is checked against what it shows. Before each
# command, its place and text are written to $DOC_TEST_PROGRESS if set
# (how tests/e2e/docs.sh names a command that hangs). --list
# prints what would run, command by command, and runs nothing.
#
# Blocks: ```sh, ```bash, ```shell and ```console fences (indented ones
# too). A block preceded (blank lines aside) by
# `<!-- doc-test: skip (REASON) -->` is not run. A command continues
# while its line ends with `\` or the text is not yet a complete shell
# command (a trailing `|` or `&&`, an open quote or `$(`).
# - sh/bash/shell blocks: every command must exit 0, and its output must
#   hold no error answer (a problem document, a 4xx/5xx status line),
#   since the block shows none.
# - console blocks: the commands are the lines after `$ `; the lines up
#   to the next `$ ` are its shown output. A command must exit 0 (show a
#   failing one as `cmd; echo "exit $?"`), and its output (standard output
#   and error together) must contain every non-blank shown line, in the
#   same order, once both are normalised: spaces collapsed, and values
#   that vary between runs replaced on both sides (API keys, dispute ids,
#   RFC 3339 times, hex digests and commit or key ids of 7 or more digits,
#   the server's address). `...` in a shown line matches any text; a line
#   of only `...`, and lines left out, match any lines.
# The commands run under `set -u` (a variable used unset fails), with the
# shell's variables carried from one to the next; this script's own all
# start with __dt_. `make` and `sudo` are never run.
#
# Exit status: 0 when every command passed, 1 when any failed (each
# failure is reported on standard error as `FAIL DOC:LINE` with the
# command, the shown line not found and what came instead), 2 on a
# malformed document (an unclosed block, a misplaced marker).

set -u
__dt_list=0
if [ "${1:-}" = "--list" ]; then
	__dt_list=1
	shift
fi
__dt_doc=${1:?usage: doctest.bash [--list] DOC.md [NAME]}
__dt_name=${2:-$1}
__dt_addr=${DOC_TEST_ADDR:-127.0.0.1:8080}
__dt_tmp=$(mktemp -d "${TMPDIR:-/tmp}/doctest-XXXXXX")
trap 'rm -rf "$__dt_tmp"' EXIT

# --- parsing -----------------------------------------------------------------
# Each command becomes __dt_cmd_line[i] (the line it starts on),
# __dt_cmd_text[i], __dt_cmd_shown[i] (shown output, console only) and
# __dt_cmd_kind[i] (sh or console).
__dt_cmd_line=()
__dt_cmd_text=()
__dt_cmd_shown=()
__dt_cmd_kind=()
__dt_skipped=()        # "LINE REASON" of each skipped block
__dt_malformed=0

__dt_bad() { # LINE MESSAGE
	echo "$__dt_name:$1: $2" >&2
	__dt_malformed=1
}

# __dt_incomplete TEXT: true when TEXT needs more lines to be a command
__dt_incomplete() {
	local text=$1 err
	case "$text" in
	*\\) return 0 ;;
	esac
	err=$(bash -n 2>&1 <<<"$text") && return 1
	case "$err" in
	*"end of file"* | *"unexpected EOF"*) return 0 ;;
	esac
	return 1
}

mapfile -t __dt_lines <"$__dt_doc"
__dt_n=${#__dt_lines[@]}
__dt_i=0
__dt_skip=""          # reason, when the last marker asks to skip the next block
__dt_skip_line=0
while [ "$__dt_i" -lt "$__dt_n" ]; do
	__dt_l=${__dt_lines[$__dt_i]}
	__dt_i=$((__dt_i + 1))
	if [[ $__dt_l =~ ^[[:space:]]*\<!--[[:space:]]*doc-test: ]]; then
		if [[ $__dt_l =~ ^[[:space:]]*\<!--[[:space:]]*doc-test:[[:space:]]*skip[[:space:]]*\((.+)\)[[:space:]]*--\>[[:space:]]*$ ]]; then
			__dt_skip=${BASH_REMATCH[1]}
			__dt_skip_line=$__dt_i
		else
			__dt_bad "$__dt_i" "unknown doc-test marker (only \`<!-- doc-test: skip (REASON) -->\`): $__dt_l"
		fi
		continue
	fi
	[[ $__dt_l =~ ^[[:space:]]*$ ]] && continue
	if ! [[ $__dt_l =~ ^([[:space:]]*)(\`\`\`+|~~~+)[[:space:]]*([A-Za-z0-9_+-]*) ]]; then
		if [ -n "$__dt_skip" ]; then
			__dt_bad "$__dt_skip_line" "a doc-test skip marker must stand right before a shell block"
			__dt_skip=""
		fi
		continue
	fi
	# a fence: read the block
	__dt_indent=${#BASH_REMATCH[1]}
	__dt_fence=${BASH_REMATCH[2]}
	__dt_lang=${BASH_REMATCH[3]}
	__dt_start=$__dt_i
	__dt_body=()
	__dt_closed=0
	while [ "$__dt_i" -lt "$__dt_n" ]; do
		__dt_l=${__dt_lines[$__dt_i]}
		__dt_i=$((__dt_i + 1))
		if [[ $__dt_l =~ ^[[:space:]]*${__dt_fence}[[:space:]]*$ ]]; then
			__dt_closed=1
			break
		fi
		# the fence's indentation is not part of the text
		__dt_k=0
		while [ "$__dt_k" -lt "$__dt_indent" ] && [ "${__dt_l:0:1}" = " " ]; do
			__dt_l=${__dt_l:1}
			__dt_k=$((__dt_k + 1))
		done
		__dt_body+=("$__dt_l")
	done
	[ "$__dt_closed" = 1 ] || __dt_bad "$__dt_start" "a code block that is never closed"
	case "$__dt_lang" in
	sh | bash | shell) __dt_kind="sh" ;;
	console) __dt_kind=console ;;
	*)
		if [ -n "$__dt_skip" ]; then
			__dt_bad "$__dt_skip_line" "a doc-test skip marker before a \`$__dt_lang\` block, which is never run"
		fi
		__dt_skip=""
		continue ;;
	esac
	if [ -n "$__dt_skip" ]; then
		__dt_skipped+=("$__dt_start $__dt_skip")
		__dt_skip=""
		continue
	fi
	# split the block into commands
	__dt_cur=""
	__dt_cur_line=0
	__dt_shown=""
	__dt_in_cmd=0       # 1 while a command is still incomplete
	__dt_j=0
	__dt_flush() {
		if [ -n "$__dt_cur" ]; then
			__dt_cmd_line+=("$__dt_cur_line")
			__dt_cmd_text+=("$__dt_cur")
			__dt_cmd_shown+=("$__dt_shown")
			__dt_cmd_kind+=("$__dt_kind")
		fi
		__dt_cur=""
		__dt_shown=""
	}
	for __dt_l in "${__dt_body[@]}"; do
		__dt_j=$((__dt_j + 1))
		__dt_at=$((__dt_start + __dt_j))
		if [ "$__dt_in_cmd" = 1 ]; then
			__dt_cur+=$'\n'"$__dt_l"
			__dt_incomplete "$__dt_cur" || __dt_in_cmd=0
			continue
		fi
		if [ "$__dt_kind" = console ]; then
			if [[ $__dt_l == '$ '* || $__dt_l == '$' ]]; then
				__dt_flush
				__dt_cur=${__dt_l#\$}
				__dt_cur=${__dt_cur# }
				__dt_cur_line=$__dt_at
				__dt_incomplete "$__dt_cur" && __dt_in_cmd=1
			elif [ -n "$__dt_cur" ]; then
				__dt_shown+="$__dt_l"$'\n'
			elif ! [[ $__dt_l =~ ^[[:space:]]*$ ]]; then
				__dt_bad "$__dt_at" "console output before any \`\$ \` command: $__dt_l"
			fi
		else
			[[ $__dt_l =~ ^[[:space:]]*(#.*)?$ ]] && continue
			__dt_flush
			__dt_cur=$__dt_l
			__dt_cur_line=$__dt_at
			__dt_incomplete "$__dt_cur" && __dt_in_cmd=1
		fi
	done
	[ "$__dt_in_cmd" = 1 ] && __dt_bad "$__dt_cur_line" "a command left incomplete at the end of its block"
	__dt_flush
done
[ -z "$__dt_skip" ] || __dt_bad "$__dt_skip_line" "a doc-test skip marker with no block after it"
[ "$__dt_malformed" = 0 ] || exit 2

if [ "$__dt_list" = 1 ]; then
	for __dt_s in "${__dt_skipped[@]}"; do
		echo "$__dt_name:${__dt_s%% *}: skipped: ${__dt_s#* }"
	done
	for __dt_c in "${!__dt_cmd_text[@]}"; do
		echo "$__dt_name:${__dt_cmd_line[$__dt_c]}: ${__dt_cmd_kind[$__dt_c]}: ${__dt_cmd_text[$__dt_c]}"
		[ -z "${__dt_cmd_shown[$__dt_c]}" ] || printf '%s' "${__dt_cmd_shown[$__dt_c]}" | sed 's/^/    | /'
	done
	exit 0
fi

# --- running -----------------------------------------------------------------

# __dt_normalise: standard input with the varying values replaced and the
# spaces collapsed, blank lines dropped
__dt_normalise() {
	sed -E \
		-e 's/\r$//' \
		-e "s/127\\.0\\.0\\.1:(8080|PORT)\\b/<ADDR>/g" \
		-e "s/${__dt_addr//./\\.}/<ADDR>/g" \
		-e 's/rdk_[0-9a-f]{16}_[A-Za-z0-9_-]{43}/<KEY>/g' \
		-e 's/rdk_\.\.\./<KEY>/g' \
		-e 's/[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?(Z|[+-][0-9]{2}:[0-9]{2})/<TIME>/g' \
		-e 's/\b[0-9A-HJKMNP-TV-Z]{26}\b/<ID>/g' \
		-e 's/\b[0-9a-f]{7,64}\b/<HEX>/g' \
		-e 's/[[:space:]]+/ /g' -e 's/^ //' -e 's/ $//' \
		-e '/^$/d'
}

# __dt_pattern LINE: a bash pattern matching LINE literally, with `...`
# matching any text
__dt_pattern() {
	local rest=$1 out="" c
	while [ -n "$rest" ]; do
		if [ "${rest:0:3}" = "..." ]; then
			out+="*"
			rest=${rest:3}
			continue
		fi
		c=${rest:0:1}
		rest=${rest:1}
		case "$c" in
		[A-Za-z0-9\ ]) out+=$c ;;
		*) out+="\\$c" ;;
		esac
	done
	printf '%s' "$out"
}

# __dt_forbidden TEXT: true when a command of TEXT starts with make or sudo
# (after variable assignments)
__dt_forbidden() {
	local line part
	while IFS= read -r line; do
		line=${line//[;&|(]/$'\n'}
		while IFS= read -r part; do
			[[ $part =~ ^[[:space:]]*([A-Za-z_][A-Za-z0-9_]*=[^[:space:]]*[[:space:]]+)*(make|sudo)([[:space:]]|$) ]] && return 0
		done <<<"$line"
	done <<<"$1"
	return 1
}

# and whatever the text check misses is stopped here
make() { echo "doc-test: make is never run; mark the block skip" >&2; return 99; }
sudo() { echo "doc-test: sudo is never run; mark the block skip" >&2; return 99; }

__dt_failures=0
__dt_out="$__dt_tmp/out"
__dt_current=""
# A command that ends the shell (`exit`, or a variable used unset: the
# commands run under `set -u`) ends the run; say which one it was.
__dt_pid=$BASHPID
exec 3>&2    # the shell may end while a command's output is redirected
__dt_on_exit() {
	# a subshell of a command (a pipeline's part) may run this too
	[ "$BASHPID" = "$__dt_pid" ] || return 0
	if [ -n "$__dt_current" ]; then
		{
			echo "FAIL $__dt_current"
			echo "  the command ended the shell (a variable used unset, or exit); its output:"
			head -n 30 "$__dt_out" | sed 's/^/    | /'
			echo "$__dt_name: stopped there, $((__dt_failures + 1)) failed"
		} >&3
		rm -rf "$__dt_tmp"
		exit 1
	fi
	rm -rf "$__dt_tmp"
}
trap __dt_on_exit EXIT
for __dt_c in "${!__dt_cmd_text[@]}"; do
	__dt_text=${__dt_cmd_text[$__dt_c]}
	__dt_where="$__dt_name:${__dt_cmd_line[$__dt_c]}"
	__dt_run=${__dt_text//127.0.0.1:8080/$__dt_addr}
	# `make run` is the server already running: its output stands for it
	__dt_served=0
	if [ "$__dt_text" = "make run" ] && [ -n "${DOC_TEST_SERVER_OUTPUT:-}" ]; then
		# shellcheck disable=SC2016 # expanded by the eval below
		__dt_run='cat "$DOC_TEST_SERVER_OUTPUT"'
		__dt_served=1
	fi
	# make and sudo are never run: they build, install or serve outside
	# the walk-through (`make run` in a console block is handled above)
	if [ "$__dt_served" = 0 ] && __dt_forbidden "$__dt_text"; then
		{
			echo "FAIL $__dt_where: \`make\` and \`sudo\` are not run by the doc test;"
			echo "  mark the block with <!-- doc-test: skip (REASON) --> if it cannot run:"
			sed '1s/^/    $ /; 2,$s/^/      /' <<<"$__dt_text"
		} >&2
		__dt_failures=$((__dt_failures + 1))
		continue
	fi
	[ -z "${DOC_TEST_PROGRESS:-}" ] || printf '%s\n' "$__dt_where: $__dt_text" >"$DOC_TEST_PROGRESS"
	__dt_current="$__dt_where: $__dt_text"
	eval "$__dt_run" </dev/null >"$__dt_out" 2>&1
	__dt_status=$?
	__dt_current=""
	# an unset variable in a subshell (a part of a pipeline, `$(...)`)
	# does not reach the exit status
	if [ "$__dt_status" = 0 ] && grep -q ': unbound variable$' "$__dt_out"; then
		__dt_status="0 but a variable is used unset"
	fi
	# an sh block shows no output: an error answer there is a narrative
	# gone wrong that curl's exit status does not tell
	if [ "$__dt_status" = 0 ] && [ "${__dt_cmd_kind[$__dt_c]}" = sh ] &&
		grep -qE '"type": ?"https://redress\.dev/problems/|^HTTP/[0-9.]+ [45][0-9][0-9]' "$__dt_out"; then
		__dt_status="0 but answered an error (an sh block shows no output; show an error in a console block)"
	fi
	if [ "$__dt_status" != 0 ]; then
		{
			echo "FAIL $__dt_where: the command exited $__dt_status, expected 0:"
			sed '1s/^/    $ /; 2,$s/^/      /' <<<"$__dt_text"
			echo "  its output:"
			head -n 30 "$__dt_out" | sed 's/^/    | /'
		} >&2
		__dt_failures=$((__dt_failures + 1))
		continue
	fi
	[ -n "${__dt_cmd_shown[$__dt_c]}" ] || continue
	mapfile -t __dt_want < <(printf '%s' "${__dt_cmd_shown[$__dt_c]}" | __dt_normalise)
	mapfile -t __dt_got < <(__dt_normalise <"$__dt_out")
	__dt_pos=0
	__dt_missing=""
	for __dt_w in "${__dt_want[@]}"; do
		[ "$__dt_w" = "..." ] && continue
		__dt_p=$(__dt_pattern "$__dt_w")
		__dt_found=0
		while [ "$__dt_pos" -lt "${#__dt_got[@]}" ]; do
			__dt_g=${__dt_got[$__dt_pos]}
			__dt_pos=$((__dt_pos + 1))
			# shellcheck disable=SC2053 # the pattern is meant
			if [[ $__dt_g == $__dt_p ]]; then
				__dt_found=1
				break
			fi
		done
		if [ "$__dt_found" = 0 ]; then
			__dt_missing=$__dt_w
			break
		fi
	done
	if [ -n "$__dt_missing" ]; then
		{
			echo "FAIL $__dt_where: the output lacks a shown line (in order, normalised):"
			sed '1s/^/    $ /; 2,$s/^/      /' <<<"$__dt_text"
			echo "  expected: $__dt_missing"
			echo "  got (normalised):"
			printf '%s\n' "${__dt_got[@]}" | head -n 30 | sed 's/^/    | /'
		} >&2
		__dt_failures=$((__dt_failures + 1))
	fi
done
echo "$__dt_name: ${#__dt_cmd_text[@]} commands, ${#__dt_skipped[@]} blocks skipped, $__dt_failures failed"
[ "$__dt_failures" = 0 ]
