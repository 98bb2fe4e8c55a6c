# lib-cloud-init.sh - helpers for the cloud-init boot tests (pkg63xx), after lib-berth.sh.
# shellcheck shell=bash

# What a converged host looks like on disk, without what every boot rewrites by design: the
# unit files, berth's sysctl file and the release trees, minus each release's record of the
# systemd invocations that ran it (berth wait-ready appends one at every start, boots included).
converged_state() {
	find /etc/systemd/system -maxdepth 2 \( -type f -o -type l \) -printf '%p %l\n' | sort
	find /etc/systemd/system -maxdepth 1 -type f -name '*.service' -exec sha256sum {} + | sort
	sha256sum /etc/sysctl.d/60-berth.conf /etc/berth/services/*.ini
	find /var/lib/berth ! -name invocations -printf '%p %y %l\n' | sort
	find /var/lib/berth -type f ! -name invocations -exec sha256sum {} + | sort
}
