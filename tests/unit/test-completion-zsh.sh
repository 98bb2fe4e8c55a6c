#!/bin/bash
# test-completion-zsh.sh - the zsh completion (contrib/completion/berth.zsh) on the host: calls
# _berth the way zsh's completion system does on TAB (words, CURRENT, PREFIX set), with berth from
# the build tree and the same fake state root as test-completion.sh. compadd, compset and _files
# are zsh's completion builtins, which exist only inside a completion widget: here they record
# what would be offered (compadd filters by PREFIX, as zsh does; _files is shown as <files ARGS>).
# TAP output; skipped when zsh is not installed. Needs BERTH and SRCDIR from the Makefile.
set -u
if ! command -v zsh >/dev/null; then
	echo "1..0 # SKIP zsh is not installed"
	exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/bin"
ln -s "$BERTH" "$tmp/bin/berth"
root=$tmp/root
mkdir -p "$root/etc/berth/services" "$root/var/lib/berth/.tune"
touch "$root/etc/berth/services/api.ini" "$root/etc/berth/services/hello.ini" "$root/etc/berth/services/README"
for v in 1a2b3c4d5e6f v2 v3; do mkdir -p "$root/var/lib/berth/hello/releases/$v"; done
mkdir -p "$root/var/lib/berth/worker/releases/w1" "$root/var/lib/berth/notaservice"

PATH=$tmp/bin:$PATH BERTH_COMPLETION_ROOT=$root exec zsh -f /dev/stdin "$SRCDIR/contrib/completion/berth.zsh" <<'ZSH'
emulate -L zsh
setopt extendedglob
integer n=0 failed=0
source $1
typeset -ga got

compadd() {
	while (( $# )) && [[ $1 != -- ]]; do shift; done
	shift
	local a
	for a in "$@"; do [[ $a == ${PREFIX}* ]] && got+=($a); done
	return 0
}
compset() { [[ $1 == -P && $PREFIX == ${~2}* ]] && PREFIX=${PREFIX#*=}; }
_files() { got+=("<files${*:+ $*}>"); }

# complete LINE: what TAB offers at the end of LINE, sorted
complete_line() {
	local -a words
	words=(${(z)1})
	[[ $1 == *' ' ]] && words+=('')
	local CURRENT=${#words} PREFIX=${words[-1]}
	got=()
	_berth
	print -rl -- ${(o)got}
}
# offers TITLE LINE WORD...: TAB after LINE offers exactly WORDs
offers() {
	local title=$1 line=$2 out want
	shift 2
	out=$(complete_line $line)
	want=$(print -rl -- ${(o)@})
	if [[ $out == $want ]]; then
		print "ok $(( ++n )) - $title"
	else
		print "not ok $(( ++n )) - $title"; (( failed++ ))
		print "# line: '$line'"; print "# wanted:" ${(f)want}; print "# got:   " ${(f)out}
	fi
}

cmds=(${(f)"$(berth --help | awk '/^commands:/ { on = 1; next } on && /^  [a-z]/ { print $1 }')"})
offers "every command from berth --help" "berth " $cmds
offers "command prefix" "berth re" releases remove render restart
offers "a hidden command is not offered" "berth wait"
offers "global options" "berth --j" --json
offers "commands after a global option" "berth --json rol" rollback
offers "options of deploy" "berth deploy --" --binary --version --lock-timeout --check --diff \
	--json --quiet --verbose --no-color --help
offers "remove has --purge, no --check" "berth remove --p" --purge
offers "rollback --to" "berth rollback --" --to --json --quiet --verbose --no-color --help
offers "service names: manifests and deployed services" "berth status " api hello worker
offers "service name prefix" "berth rollback h" hello
offers "more names after the first for status" "berth status hello " api hello worker
offers "one name only for stop" "berth stop hello "
offers "releases for rollback --to" "berth rollback hello --to " 1a2b3c4d5e6f v2 v3
offers "releases for rollback --to=" "berth rollback hello --to=v" v2 v3
offers "releases when --to comes first" "berth rollback --to v"
offers "releases for logs --release" "berth logs worker --release " w1
offers "the name after -n N" "berth logs -n 5 w" worker
offers "no value offered for a duration" "berth deploy x.ini --lock-timeout "
offers "profiles for tune --profile" "berth tune --profile " web proxy default
offers "profiles for tune -p" "berth tune -p w" web
offers "manifests for deploy" "berth deploy " "<files -g *.ini>"
offers "files for --binary" "berth deploy web.ini --binary " "<files>"
offers "files for -b" "berth deploy web.ini -b " "<files>"
offers "directories for apply" "berth apply " "<files -/>"
offers "commands and manifest for help" "berth help ma" manifest
offers "one argument for deploy" "berth deploy web.ini "
# the static profile list is the one berth knows
msg=$(berth tune --profile no-such-profile --check 2>&1 >/dev/null)
if [[ ${msg##*use one of } == ${(j:, :)_berth_profiles} ]]; then
	print "ok $(( ++n )) - profiles match berth tune's"
else
	print "not ok $(( ++n )) - profiles match berth tune's"; (( failed++ )); print "# berth says: $msg"
fi
print "1..$n"
exit $(( failed > 0 ))
ZSH
