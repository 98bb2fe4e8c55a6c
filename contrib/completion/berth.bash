# bash completion for berth(8)                                   -*- shell-script -*-
#
# Commands, options and what each positional argument is come from berth's own help
# (`berth --help`, `berth help COMMAND`), so this file never lists them twice. Service names are
# the manifests in /etc/berth/services and the services deployed under /var/lib/berth; release
# versions (rollback --to, logs --release) are that service's releases/ directory; tune profiles
# are the ones berth knows. BERTH_COMPLETION_ROOT (tests only) is prepended to those paths.

# The tune profiles (src/tune.c; tests/unit/test-completion.sh checks them against berth).
_berth_profiles="web proxy default"

_berth_commands()
{
	"${1:-berth}" --help 2>/dev/null | awk '/^commands:/ { on = 1; next } on && /^  [a-z]/ { print $1 }'
}

# "usage: berth limit [OPTIONS] NAME" -> NAME; the option lines -> "--name" or "--name=ARG"
_berth_cmd_usage()
{
	"$1" help "$2" 2>/dev/null | awk 'NR == 1 && /^usage:/ { $1 = $2 = $3 = ""; sub(/^ *(\[OPTIONS\] *)?/, ""); print; exit }'
}
_berth_cmd_options()
{
	"$1" help "$2" 2>/dev/null | awk '
		/^ *(-[a-zA-Z],)? *--[a-z]/ {
			sub(/^ *(-[a-zA-Z],)? */, "")
			if ($2 ~ /^[A-Z][A-Z_]*$/) print $1 "=" $2; else print $1
		}'
}

# Prints the argument name of a short option (-b -> PATH) and succeeds if it takes one.
_berth_short_takes_arg()
{
	local a
	a=$("$1" help "$2" 2>/dev/null | awk -v o="$3," 'index($1, o) == 1 && $2 ~ /^[A-Z][A-Z_]*$/ { print $2; exit }')
	[ -n "$a" ] && echo "$a"
}

_berth_services()
{
	local root=${BERTH_COMPLETION_ROOT-} f n
	for f in "$root"/etc/berth/services/*.ini; do
		[ -f "$f" ] || continue
		n=${f##*/}
		echo "${n%.ini}"
	done
	for f in "$root"/var/lib/berth/*/releases; do
		[ -d "$f" ] || continue
		n=${f%/releases}
		echo "${n##*/}"
	done
}

_berth_releases() # SERVICE
{
	local f
	for f in "${BERTH_COMPLETION_ROOT-}/var/lib/berth/$1/releases"/*; do
		[ -d "$f" ] && echo "${f##*/}"
	done
}

_berth()
{
	local cur prev words cword
	if declare -F _init_completion >/dev/null; then
		_init_completion -n = || return
	else
		cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD - 1]}
		words=("${COMP_WORDS[@]}") cword=$COMP_CWORD
	fi
	local berth=${words[0]} i cmd='' cmd_at=0 service='' opts
	# The first word that is not an option is the command.
	for ((i = 1; i < cword; i++)); do
		[[ ${words[i]} == -* ]] || { cmd=${words[i]} cmd_at=$i; break; }
	done
	if [ -z "$cmd" ]; then
		case $cur in
		-*) mapfile -t COMPREPLY < <(compgen -W '--json --no-color --quiet --verbose --version --help' -- "$cur") ;;
		*) mapfile -t COMPREPLY < <(compgen -W "$(_berth_commands "$berth")" -- "$cur") ;;
		esac
		return 0
	fi
	opts=$(_berth_cmd_options "$berth" "$cmd")
	# The command's first positional argument (the service), skipping the values of options.
	for ((i = cmd_at + 1; i < cword; i++)); do
		case ${words[i]} in
		--*=*) ;;
		--*) printf '%s\n' "$opts" | grep -qx -- "${words[i]}=.*" && i=$((i + 1)) ;;
		-?) _berth_short_takes_arg "$berth" "$cmd" "${words[i]}" >/dev/null && i=$((i + 1)) ;;
		-*) ;;
		*) service=${words[i]}; break ;;
		esac
	done

	# The value of an option: "--to V", "--to=V"
	local opt='' arg=''
	if [[ $cur == --*=* ]]; then
		opt=${cur%%=*} cur=${cur#*=}
	elif [[ $prev == -* ]] && ((cword - 1 > cmd_at)); then
		opt=$prev
	fi
	if [ -n "$opt" ]; then
		arg=$(printf '%s\n' "$opts" | awk -F= -v o="$opt" '$1 == o && NF > 1 { print $2; exit }')
		[[ $opt == --* ]] || arg=$(_berth_short_takes_arg "$berth" "$cmd" "$opt")
	fi
	if [ -n "$arg" ]; then
		case $arg in
		PATH | FILE) mapfile -t COMPREPLY < <(compgen -f -- "$cur") ;;
		VERSION)
			[ "$cmd" = deploy ] || mapfile -t COMPREPLY < <(compgen -W "$(_berth_releases "$service")" -- "$cur") ;;
		NAME) [ "$cmd" != tune ] || mapfile -t COMPREPLY < <(compgen -W "$_berth_profiles" -- "$cur") ;;
		*) COMPREPLY=() ;;
		esac
		return 0
	fi

	if [[ $cur == -* ]]; then
		mapfile -t COMPREPLY < <(compgen -W "$(printf '%s\n' "$opts" | sed 's/=.*//')" -- "$cur")
		[[ ${COMPREPLY[*]} == *= ]] && compopt -o nospace 2>/dev/null
		return 0
	fi

	# A positional argument: what the usage line names
	local usage
	usage=$(_berth_cmd_usage "$berth" "$cmd")
	case $usage in
	*MANIFEST*)
		[ -n "$service" ] && return 0
		mapfile -t COMPREPLY < <(compgen -f -X '!*.ini' -- "$cur"; compgen -d -- "$cur")
		compopt -o filenames 2>/dev/null ;;
	DIR)
		[ -n "$service" ] && return 0
		mapfile -t COMPREPLY < <(compgen -d -- "$cur")
		compopt -o filenames 2>/dev/null ;;
	*FILE*)
		[ -n "$service" ] && return 0
		mapfile -t COMPREPLY < <(compgen -f -- "$cur")
		compopt -o filenames 2>/dev/null ;;
	*COMMAND*)
		[ -n "$service" ] && return 0
		mapfile -t COMPREPLY < <(compgen -W "$(_berth_commands "$berth") manifest" -- "$cur") ;;
	*NAME...*)
		mapfile -t COMPREPLY < <(compgen -W "$(_berth_services | sort -u)" -- "$cur") ;;
	*NAME*)
		[ -n "$service" ] && return 0
		mapfile -t COMPREPLY < <(compgen -W "$(_berth_services | sort -u)" -- "$cur") ;;
	esac
	return 0
}
complete -F _berth berth
