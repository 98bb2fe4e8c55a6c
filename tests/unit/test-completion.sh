#!/bin/bash
# test-completion.sh - the bash completion (contrib/completion/berth.bash) on the host: calls
# _berth the way bash does on TAB, with berth from the build tree and a fake state root
# (BERTH_COMPLETION_ROOT) holding manifests, deployed services and releases. TAP output.
# Needs BERTH and SRCDIR from the Makefile's test environment; uses bash-completion's
# _init_completion when it is installed, the script's fallback otherwise (both are tested).
set -u
n=0 failed=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $1"; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# berth is found as "berth" on PATH, as on a real system
mkdir -p "$tmp/bin"
ln -s "$BERTH" "$tmp/bin/berth"
PATH=$tmp/bin:$PATH

# the fake host: two manifests, two deployed services (one without a manifest), releases
root=$tmp/root
export BERTH_COMPLETION_ROOT=$root
mkdir -p "$root/etc/berth/services" "$root/var/lib/berth/.tune"
touch "$root/etc/berth/services/api.ini" "$root/etc/berth/services/hello.ini" "$root/etc/berth/services/README"
for v in 1a2b3c4d5e6f v2 v3; do mkdir -p "$root/var/lib/berth/hello/releases/$v"; done
mkdir -p "$root/var/lib/berth/worker/releases/w1"
mkdir -p "$root/var/lib/berth/notaservice" # no releases/: not deployed
mkdir -p "$tmp/cwd/sub"
touch "$tmp/cwd/web.ini" "$tmp/cwd/notes.txt"
cd "$tmp/cwd" || exit 1

# complete LINE: what TAB offers at the end of LINE (one per line, sorted)
complete_line() {
	local line=$1
	COMP_LINE=$line COMP_POINT=${#line}
	read -r -a COMP_WORDS <<<"$line"
	[[ $line == *' ' ]] && COMP_WORDS+=("")
	COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
	COMPREPLY=()
	_berth berth "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
	printf '%s\n' "${COMPREPLY[@]}" | sed '/^$/d' | sort
}
# offers TITLE LINE WORD...: TAB after LINE offers exactly WORDs
offers() {
	local title=$1 line=$2 got want
	shift 2
	got=$(complete_line "$line")
	want=$(printf '%s\n' "$@" | sed '/^$/d' | sort)
	if [ "$got" = "$want" ]; then
		ok "$title"
	else
		not_ok "$title"
		echo "# line: '$line'"
		echo "# wanted:" $want
		echo "# got:   " $got
	fi
}
# includes TITLE LINE WORD...: TAB after LINE offers at least WORDs
includes() {
	local title=$1 line=$2 got w missing=
	shift 2
	got=$(complete_line "$line")
	for w in "$@"; do grep -qx -- "$w" <<<"$got" || missing="$missing $w"; done
	if [ -z "$missing" ]; then ok "$title"; else not_ok "$title"; echo "# missing:$missing; got: $(echo $got)"; fi
}

run_all() { # MODE
	local m=$1
	# shellcheck source=/dev/null
	. "$SRCDIR/contrib/completion/berth.bash"
	complete -p berth | grep -q -- '-F _berth' && ok "$m: complete -F _berth berth" || not_ok "$m: complete -F _berth berth"

	local cmds
	cmds=$("$BERTH" --help | awk '/^commands:/ { on = 1; next } on && /^  [a-z]/ { print $1 }')
	# shellcheck disable=SC2086
	offers "$m: every command from berth --help" "berth " $cmds
	offers "$m: command prefix" "berth re" releases remove render restart
	offers "$m: a hidden command is not offered" "berth wait" ""
	offers "$m: global options" "berth --j" --json
	offers "$m: commands after a global option" "berth --json rol" rollback

	offers "$m: options of deploy" "berth deploy --" --binary --version --lock-timeout --check --diff \
		--json --quiet --verbose --no-color --help
	includes "$m: options of limit" "berth limit hello --" --cpu --memory --memory-high --swap --tasks \
		--runtime --force --restart --check --diff
	offers "$m: remove has --purge, no --check" "berth remove --p" --purge
	offers "$m: rollback --to" "berth rollback --" --to --json --quiet --verbose --no-color --help

	offers "$m: service names: manifests and deployed services" "berth status " api hello worker
	offers "$m: service name prefix" "berth rollback h" hello
	offers "$m: more names after the first for status" "berth status hello " api hello worker
	offers "$m: one name only for stop" "berth stop hello " ""
	offers "$m: releases for rollback --to" "berth rollback hello --to " 1a2b3c4d5e6f v2 v3
	offers "$m: releases for rollback --to=" "berth rollback hello --to=v" v2 v3
	offers "$m: releases when --to comes first" "berth rollback --to v" ""
	offers "$m: releases for logs --release" "berth logs worker --release " w1
	offers "$m: the name after -n N" "berth logs -n 5 w" worker
	offers "$m: no value offered for a duration" "berth deploy x.ini --lock-timeout " ""
	offers "$m: profiles for tune --profile" "berth tune --profile " web proxy default
	offers "$m: profiles for tune -p" "berth tune -p w" web
	offers "$m: manifests for deploy" "berth deploy " sub web.ini
	offers "$m: manifests for check" "berth check w" web.ini
	includes "$m: files for --binary" "berth deploy web.ini --binary " notes.txt web.ini
	includes "$m: files for -b" "berth deploy web.ini -b " notes.txt
	offers "$m: directories for apply" "berth apply " sub
	offers "$m: commands and manifest for help" "berth help ma" manifest
	offers "$m: one argument for deploy" "berth deploy web.ini " ""
}

# with bash-completion's _init_completion, if installed (it is what users have)
if [ -r /usr/share/bash-completion/bash_completion ]; then
	(
		# shellcheck source=/dev/null
		. /usr/share/bash-completion/bash_completion
		run_all bash-completion
		exit "$failed"
	) >"$tmp/with.tap"
	rc=$?
	cat "$tmp/with.tap"
	n=$((n + $(grep -c '^\(not \)\?ok' "$tmp/with.tap"))) failed=$((failed + rc))
else
	n=$((n + 1))
	echo "ok $n # SKIP bash-completion is not installed"
fi
run_all plain

# the static profile list is the one berth knows
msg=$("$BERTH" tune --profile no-such-profile --check 2>&1 >/dev/null)
# shellcheck source=/dev/null
. "$SRCDIR/contrib/completion/berth.bash"
want="use one of $(echo "$_berth_profiles" | sed 's/ /, /g')"
if [[ "use one of ${msg##*use one of }" == "$want" ]]; then ok "profiles match berth tune's"; else not_ok "profiles match berth tune's"; echo "# berth says: $msg"; fi

echo "1..$n"
[ "$failed" -eq 0 ]
