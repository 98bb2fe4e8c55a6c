# lib-host.sh - what the host-side scripts that build Debian trees share (image.sh, tests/ci/chroot-build).
# shellcheck shell=bash

# mirror_for RELEASE: mmdebstrap's last argument for RELEASE, from this host's own apt sources:
# for the host's own release its deb822 sources file (with the updates and security suites it
# lists), else one line "deb URI RELEASE main" with the URI of the host's first apt source.
# No registry address is written anywhere else.
mirror_for() {
	local release=$1 own uri
	own=$(. /etc/os-release 2>/dev/null && echo "${VERSION_CODENAME:-}")
	if [ "$release" = "$own" ] && [ -s /etc/apt/sources.list.d/debian.sources ]; then
		echo /etc/apt/sources.list.d/debian.sources
		return 0
	fi
	uri=$(cat /etc/apt/sources.list.d/debian.sources /etc/apt/sources.list.d/*.sources 2>/dev/null |
		awk '$1 == "URIs:" { print $2; exit }' || true)
	[ -n "$uri" ] || uri=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
		awk '$1 == "deb" { for (i = 2; i <= NF; i++) if ($i !~ /^\[/) { print $i; exit } }' || true)
	if [ -z "$uri" ]; then
		echo "no Debian source in /etc/apt/sources.list or /etc/apt/sources.list.d/" >&2
		return 1
	fi
	echo "deb $uri $release main"
}

# cache_used DIR: records that DIR (an image or chroot in a cache) is being used now.
cache_used() {
	touch "$1/.used" 2>/dev/null || true
}

# cache_prune BASE KEY DAYS: removes BASE's entries other than KEY whose last use is older than
# DAYS (at least one day, so never one that a run started with), and leftovers of builds
# (.build.*) that died: KEY's own (the caller holds KEY's lock) and others older than a day.
cache_prune() {
	local base=$1 key=$2 days=$3 old stamp
	[ "$days" -ge 1 ] 2>/dev/null || days=1
	for old in "$base"/*; do
		[ -d "$old" ] && [ "${old##*/}" != "$key" ] || continue
		stamp=$old/.used
		[ -e "$stamp" ] || stamp=$old
		[ -n "$(find "$stamp" -maxdepth 0 -mmin +$((days * 1440)))" ] || continue
		echo "removing $old (not used for $days days)" >&2
		rm -rf "$old"
	done
	for old in "$base"/.build.*; do
		[ -d "$old" ] || continue
		case ${old##*/} in
		.build."$key".*) ;;
		*) [ -n "$(find "$old" -maxdepth 0 -mmin +1440)" ] || continue ;;
		esac
		echo "removing the leftover $old" >&2
		rm -rf "$old"
	done
}
