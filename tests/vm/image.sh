#!/bin/bash
# image.sh - make sure the cached VM image for the VM tests exists; print its directory.
#
# The host's PID 1 is not systemd and its cgroups are v1, so berth's integration tests boot a
# throw-away VM (qemu TCG: KVM does not work on our hosts) whose PID 1 is a real systemd with pure
# cgroup v2. This script builds the image once: an mmdebstrap rootfs of the chosen Debian release
# as an ext4 file (root.img) plus that release's cloud kernel (vmlinuz), which has NVMe and ext4
# built in and so boots without an initrd. The cache key is the release, the variant and a hash of
# this file: editing the recipe below rebuilds the image.
#
# stdout: the image directory (root.img, vmlinuz, info). Everything else goes to stderr.
# Env: BERTH_VM_RELEASE  bookworm (Debian 12, the default) or trixie (Debian 13)
#      BERTH_VM_VARIANT  empty (the default) or nodbus: no dbus-daemon, as on minimal hosts
#      BERTH_VM_CACHE    the cache directory (/var/tmp/berth-vm), one subdirectory per key
#      BERTH_VM_KEEP_DAYS  images of other keys not used for this many days (14) are removed
#                        when an image is built; `image.sh --prune` removes them now. An image
#                        another run may be using is never removed.
set -euo pipefail

self=$(realpath "${BASH_SOURCE[0]}")
base=${BERTH_VM_CACHE:-/var/tmp/berth-vm}
release=${BERTH_VM_RELEASE:-bookworm}
variant=${BERTH_VM_VARIANT:-}
keep_days=${BERTH_VM_KEEP_DAYS:-14}
case $release in
bookworm) libs=libcgroup2,libiniparser1,libnettle8 ;;
trixie) libs=libcgroup3,libiniparser4,libnettle8t64 ;;
*) echo "image.sh: unknown BERTH_VM_RELEASE '$release' (bookworm or trixie)" >&2; exit 2 ;;
esac
case $variant in
'') bus=dbus ;;
nodbus) bus= ;;
*) echo "image.sh: unknown BERTH_VM_VARIANT '$variant' (empty or nodbus)" >&2; exit 2 ;;
esac
case $keep_days in '' | *[!0-9]*) echo "image.sh: bad BERTH_VM_KEEP_DAYS '$keep_days'" >&2; exit 2 ;; esac
key=$release${variant:+-$variant}-$(sha256sum "$self" | cut -c1-12)
dir=$base/$key

missing=()
for t in qemu-system-x86_64:qemu-system-x86 mmdebstrap:mmdebstrap mkfs.ext4:e2fsprogs \
	debugfs:e2fsprogs flock:util-linux; do
	command -v "${t%%:*}" >/dev/null 2>&1 || missing+=("${t#*:}")
done
if [ ${#missing[@]} -gt 0 ]; then
	echo "image.sh: missing tools: install the Debian packages: $(printf '%s\n' "${missing[@]}" | sort -u | xargs)" >&2
	exit 1
fi

ready() { [ -s "$dir/root.img" ] && [ -s "$dir/vmlinuz" ]; }
# Every vm-run asks this script for its image first: that is the image's last use.
used() { cache_used "$dir"; echo "$dir"; }
prune() { cache_prune "$base" "$key" "$keep_days" 2>&1 | sed 's/^/image.sh: /' >&2; }
. "$(dirname "$self")/lib-host.sh"

if [ "${1:-}" = --prune ]; then
	mkdir -p "$base"
	prune
	exit 0
elif [ $# -gt 0 ]; then
	echo "usage: image.sh [--prune]" >&2
	exit 2
fi

if ready; then
	used
	exit 0
fi

mkdir -p "$base"
exec 9>"$base/.lock.$key"
if ! flock -n 9; then
	echo "image.sh: another run is building the $key VM image; waiting" >&2
	flock 9
fi
if ready; then # built by whoever held the lock
	used
	exit 0
fi
prune

sources=$(mirror_for "$release")

t0=$SECONDS
tmp=$(mktemp -d "$base/.build.$key.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
echo "image.sh: building the $release${variant:+ $variant} VM image in $dir (a few minutes)" >&2
export DEBIAN_FRONTEND=noninteractive

# --- the root file system and the release's cloud kernel ---------------------------------------
# The guest has no network: every package a test needs must be listed here.
pkgs=systemd,systemd-sysv${bus:+,$bus},libsystemd0,$libs,libmnl0,procps,kmod,iproute2
pkgs=$pkgs,curl,jq,cgroup-tools,util-linux,coreutils,psmisc,linux-image-cloud-amd64
# Ansible, cloud-init and sshd for the integration tests (t6xxx, tests/package, tests/ansible),
# supervisor and runit for bench/run (the supervisors berth is compared with);
# off at boot (see below). Not in the minimal no-D-Bus image, which must stay minimal.
[ "$variant" = nodbus ] || pkgs=$pkgs,python3,ansible-core,openssh-server,cloud-init,supervisor,runit
R=$tmp/rootfs
# The last argument is a sources file (pasted as the chroot's apt sources) or a "deb" line.
# No initrd is booted (the cloud kernel has NVMe and ext4 built in): update-initramfs is diverted
# to true, which saves minutes of generating one twice. No fsync per file: a failed build is
# thrown away.
mmdebstrap --quiet --variant=minbase --include="$pkgs" --dpkgopt=force-unsafe-io \
	--dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/doc/*' \
	--dpkgopt='path-exclude=/usr/share/locale/*' \
	--essential-hook='chroot "$1" dpkg-divert --quiet --local --rename --add /usr/sbin/update-initramfs &&
		ln -s /bin/true "$1/usr/sbin/update-initramfs"' \
	"$release" "$R" "$sources" >&2
kernels=("$R"/boot/vmlinuz-*)
[ ${#kernels[@]} -eq 1 ] && [ -s "${kernels[0]}" ] || {
	echo "image.sh: expected one kernel in the rootfs, found: ${kernels[*]}" >&2
	exit 1
}
kver=${kernels[0]##*/vmlinuz-}
cp "${kernels[0]}" "$tmp/vmlinuz"
if [ -n "$bus" ]; then
	[ -x "$R/usr/bin/dbus-daemon" ] || [ -x "$R/usr/bin/dbus-broker" ] || {
		echo "image.sh: the image has no D-Bus daemon" >&2; exit 1; }
elif [ -e "$R/usr/bin/dbus-daemon" ] || [ -e "$R/usr/bin/dbus-broker" ]; then
	echo "image.sh: the $variant image has a D-Bus daemon (pulled in by: $pkgs)" >&2
	exit 1
fi

echo berth-test >"$R/etc/hostname"
printf '127.0.0.1 localhost\n::1 localhost\n127.0.1.1 berth-test\n' >"$R/etc/hosts"
: >"$R/etc/fstab"
# A fixed machine-id: no first-boot logic (presets, firstboot prompts) on every snapshot boot.
od -An -N16 -tx1 /dev/urandom | tr -d ' \n' >"$R/etc/machine-id"
echo >>"$R/etc/machine-id"
# Do once here what systemd would otherwise redo on every boot of the throw-away snapshot.
chroot "$R" ldconfig
touch -r "$R/usr" "$R/etc/.updated" "$R/var/.updated"
# cloud-init and sshd are for the integration tests (t6xxx, tests/ansible/run-rolling), which
# turn them on; every other boot runs without them.
if [ "$variant" != nodbus ]; then
	touch "$R/etc/cloud/cloud-init.disabled"
	chroot "$R" systemctl disable --quiet ssh.service supervisor.service
fi
for u in serial-getty@ttyS0.service serial-getty@ttyS1.service getty@tty1.service \
	apt-daily.timer apt-daily-upgrade.timer dpkg-db-backup.timer e2scrub_all.timer \
	e2scrub_reap.service fstrim.timer; do
	ln -sf /dev/null "$R/etc/systemd/system/$u"
done
mkdir -p "$R/mnt/share"

# --- the guest runner: run /mnt/share/.cmd once the boot is done, then power off -------------
cat >"$R/usr/local/sbin/guest-run" <<'EOF'
#!/bin/bash
# guest-run - mount the share disk, wait for the boot to finish, run /mnt/share/.cmd as root in
# /mnt/share with its output on ttyS1 (the host streams it) and in .out.log, record its exit code
# in .rc (and the journal in .journal.txt if it failed), unmount. The unit then powers off.
share=/mnt/share
say() { echo "guest-run: $*" | tee /dev/ttyS0 >/dev/ttyS1; }
# The share disk is virtio (a module), the root disk the only NVMe namespace: Linux 6.12 scans
# namespaces asynchronously, so with two of them nvme0n1 was sometimes the share disk.
modprobe virtio_blk 2>/dev/null
for _ in $(seq 50); do [ -b /dev/vda ] && break; sleep 0.2; done
mount -t ext4 /dev/vda "$share" || { say "cannot mount the share disk /dev/vda"; exit 1; }
[ -f "$share/.cmd" ] || { say "no $share/.cmd"; umount "$share"; exit 1; }
stty -F /dev/ttyS1 raw -echo 2>/dev/null
state=$(systemctl is-system-running --wait 2>&1)
echo "state=$state uptime=$(cut -d' ' -f1 /proc/uptime)s" >"$share/.ready"
export HOME=/root LANG=C.UTF-8
cd "$share" || exit 1
bash "$share/.cmd" </dev/null 2>&1 | tee "$share/.out.log" >/dev/ttyS1
rc=${PIPESTATUS[0]}
cd / || exit 1
[ "$rc" -eq 0 ] || journalctl -b --no-pager >"$share/.journal.txt" 2>&1
echo "$rc" >"$share/.rc"
sync
umount "$share" || umount -l "$share"
sync
exit 0
EOF
chmod 755 "$R/usr/local/sbin/guest-run"
cat >"$R/etc/systemd/system/guest-run.service" <<'EOF'
[Unit]
Description=Run the VM test harness command from /mnt/share, then power off
After=multi-user.target
# Here in [Unit]: in [Service] they are ignored and the VM never powers off.
SuccessAction=poweroff-force
FailureAction=poweroff-force

[Service]
# exec, not oneshot: a oneshot in the boot transaction deadlocks `is-system-running --wait`.
Type=exec
ExecStart=/usr/local/sbin/guest-run
StandardOutput=journal+console

[Install]
WantedBy=multi-user.target
EOF
ln -sf /etc/systemd/system/guest-run.service \
	"$R/etc/systemd/system/multi-user.target.wants/guest-run.service"

# --- the disk image ---------------------------------------------------------------------------
truncate -s 3G "$tmp/root.img"
mkfs.ext4 -q -F -L root -d "$R" "$tmp/root.img"
{ printf 'kernel %s\nbuilt %s\n\n' "$kver" "$(date -u +%FT%TZ)"; chroot "$R" dpkg-query -W; } >"$tmp/info"
rm -rf "$R"
rm -rf "$dir"
chmod 755 "$tmp"
mv "$tmp" "$dir"
trap - EXIT
echo "image.sh: built $dir in $((SECONDS - t0)) s" >&2
used
