#compdef berth
# zsh completion for berth(8), installed as _berth in a directory of $fpath.
#
# The same sources as the bash completion (berth.bash): commands, options and what each
# positional argument is come from berth's own help (`berth --help`, `berth help COMMAND`);
# service names are the manifests in /etc/berth/services and the services deployed under
# /var/lib/berth; release versions are that service's releases/; tune profiles are berth's.
# BERTH_COMPLETION_ROOT (tests only) is prepended to those paths.

# The tune profiles (src/tune.c; tests/unit/test-completion-zsh.sh checks them against berth).
_berth_profiles=(web proxy default)

_berth_services() {
	local root=${BERTH_COMPLETION_ROOT-} f
	local -a names
	for f in $root/etc/berth/services/*.ini(N-.); do names+=(${${f:t}%.ini}); done
	for f in $root/var/lib/berth/*/releases(N-/); do names+=(${f:h:t}); done
	compadd -- ${(u)names}
}

_berth_releases() { # SERVICE
	local f
	local -a versions
	[[ -n $1 ]] || return 1
	for f in ${BERTH_COMPLETION_ROOT-}/var/lib/berth/$1/releases/*(N-/); do versions+=(${f:t}); done
	compadd -- $versions
}

_berth() {
	local berth=${words[1]} cmd='' service='' help usage i w opt='' arg=''
	local -i cmd_at=0
	local -a opts names
	# The first word that is not an option is the command.
	for (( i = 2; i < CURRENT; i++ )); do
		[[ ${words[i]} == -* ]] || { cmd=${words[i]} cmd_at=i; break; }
	done
	if [[ -z $cmd ]]; then
		if [[ $PREFIX == -* ]]; then
			compadd -- --json --no-color --quiet --verbose --version --help
		else
			compadd -- ${(f)"$($berth --help 2>/dev/null | awk '/^commands:/ { on = 1; next } on && /^  [a-z]/ { print $1 }')"}
		fi
		return
	fi
	help=$($berth help $cmd 2>/dev/null)
	# "--to=VERSION" for an option with an argument, "--check" for one without
	opts=(${(f)"$(print -r -- $help | awk '
		/^ *(-[a-zA-Z],)? *--[a-z]/ {
			short = ""
			if (match($0, /^ *-[a-zA-Z],/)) short = substr($0, RLENGTH - 2, 2)
			sub(/^ *(-[a-zA-Z],)? */, "")
			a = ($2 ~ /^[A-Z][A-Z_]*$/) ? "=" $2 : ""
			print $1 a
			if (short != "") print short a
		}')"})
	# The command's first positional argument (the service), skipping the values of options.
	for (( i = cmd_at + 1; i < CURRENT; i++ )); do
		w=${words[i]}
		case $w in
		--*=*) ;;
		-*) (( ${opts[(I)$w=*]} )) && (( i++ )) ;;
		*) service=$w; break ;;
		esac
	done

	# The value of an option: "--to V", "--to=V"
	if [[ $PREFIX == --*=* ]]; then
		opt=${PREFIX%%=*}
		compset -P '*='
	elif [[ ${words[CURRENT - 1]} == -* ]] && (( CURRENT - 1 > cmd_at )); then
		opt=${words[CURRENT - 1]}
	fi
	if [[ -n $opt ]]; then
		arg=${${opts[(r)$opt=*]}#*=}
	fi
	if [[ -n $arg ]]; then
		case $arg in
		PATH|FILE) _files ;;
		VERSION) [[ $cmd == deploy ]] || _berth_releases $service ;;
		NAME) [[ $cmd != tune ]] || compadd -- $_berth_profiles ;;
		esac
		return
	fi

	if [[ $PREFIX == -* ]]; then
		compadd -- ${${(M)opts:#--*}%%=*}
		return
	fi

	# A positional argument: what the usage line names ("usage: berth limit [OPTIONS] NAME")
	usage=${${${(f)help}[1]}#usage: berth $cmd }
	usage=${usage#\[OPTIONS\] }
	case $usage in
	*MANIFEST*) [[ -n $service ]] || _files -g '*.ini' ;;
	DIR) [[ -n $service ]] || _files -/ ;;
	*FILE*) [[ -n $service ]] || _files ;;
	*COMMAND*)
		[[ -n $service ]] || compadd -- manifest ${(f)"$($berth --help 2>/dev/null | awk '/^commands:/ { on = 1; next } on && /^  [a-z]/ { print $1 }')"} ;;
	*NAME...*) _berth_services ;;
	*NAME*) [[ -n $service ]] || _berth_services ;;
	esac
}

# Loaded by compinit through #compdef; sourced (as the tests do), it only defines the functions.
[[ $funcstack[1] == _berth ]] && _berth "$@"
