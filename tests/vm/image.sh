#!/bin/bash
# image.sh - make sure the cached Debian 12 VM image for the VM tests exists; print its directory.
#
# The host's PID 1 is not systemd and its cgroups are v1, so berth's integration tests boot a
# throw-away VM (qemu TCG: KVM does not work on our hosts) whose PID 1 is a real systemd with pure
# cgroup v2. This script builds the image once: an mmdebstrap rootfs as an ext4 file (root.img)
# plus Debian's cloud kernel (vmlinuz), which has NVMe and ext4 built in and so boots without an
# initrd. The cache key is a hash of this file: editing the recipe below rebuilds the image.
#
# stdout: the image directory (root.img, vmlinuz). Everything else goes to stderr.
# Env: BERTH_VM_CACHE (default /var/tmp/berth-vm).
set -euo pipefail

self=$(realpath "${BASH_SOURCE[0]}")
base=${BERTH_VM_CACHE:-/var/tmp/berth-vm}
key=$(sha256sum "$self" | cut -c1-12)
dir=$base/$key

missing=()
for t in qemu-system-x86_64:qemu-system-x86 mmdebstrap:mmdebstrap mkfs.ext4:e2fsprogs \
	debugfs:e2fsprogs apt-get:apt dpkg-deb:dpkg flock:util-linux; do
	command -v "${t%%:*}" >/dev/null 2>&1 || missing+=("${t#*:}")
done
if [ ${#missing[@]} -gt 0 ]; then
	echo "image.sh: missing tools: install the Debian packages: $(printf '%s\n' "${missing[@]}" | sort -u | xargs)" >&2
	exit 1
fi

ready() { [ -s "$dir/root.img" ] && [ -s "$dir/vmlinuz" ]; }
if ready; then
	echo "$dir"
	exit 0
fi

mkdir -p "$base"
exec 9>"$base/.lock"
if ! flock -n 9; then
	echo "image.sh: another run is building the VM image; waiting" >&2
	flock 9
fi
if ready; then # built by whoever held the lock
	echo "$dir"
	exit 0
fi

# We hold the lock: leftovers of interrupted builds and images of older recipes can go.
for old in "$base"/.build.* "$base"/*; do
	[ -e "$old" ] || continue
	case ${old##*/} in
	"$key" | .lock) ;;
	.build.* | [0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f])
		echo "image.sh: removing stale $old" >&2
		rm -rf "$old" ;;
	esac
done

t0=$SECONDS
tmp=$(mktemp -d "$base/.build.$key.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
echo "image.sh: building the VM image in $dir (about a minute)" >&2
export DEBIAN_FRONTEND=noninteractive

# --- the kernel: whatever linux-image-cloud-amd64 currently depends on ------------------------
kernel_pkg() {
	apt-cache depends linux-image-cloud-amd64 2>/dev/null |
		awk '/Depends: linux-image-[0-9]/ { print $2; exit }'
}
kpkg=$(kernel_pkg)
if [ -z "$kpkg" ]; then
	apt-get update -qq >&2
	kpkg=$(kernel_pkg)
fi
[ -n "$kpkg" ] || { echo "image.sh: apt-cache knows no linux-image-cloud-amd64" >&2; exit 1; }
kver=${kpkg#linux-image-}
# apt-get download writes into the current directory; as root into a private one it warns.
if ! (cd "$tmp" && apt-get download -qq "$kpkg" 2>/dev/null); then
	apt-get update -qq >&2 # stale package lists: the mirror dropped that version
	kpkg=$(kernel_pkg); kver=${kpkg#linux-image-}
	(cd "$tmp" && apt-get download -qq "$kpkg" 2>/dev/null)
fi

# --- the root file system ---------------------------------------------------------------------
# The guest has no network: every package a test needs must be listed here.
pkgs=systemd,systemd-sysv,dbus,libsystemd0,libcgroup2,libmnl0,libiniparser1,procps,kmod,iproute2
pkgs=$pkgs,curl,jq,cgroup-tools,util-linux,coreutils,psmisc
pkgs=$pkgs,python3,ansible-core,openssh-server,cloud-init
R=$tmp/rootfs
# The last argument (an existing file) is pasted as the chroot's apt sources.
mmdebstrap --quiet --variant=minbase --include="$pkgs" \
	--dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/doc/*' \
	--dpkgopt='path-exclude=/usr/share/locale/*' \
	bookworm "$R" /etc/apt/sources.list.d/debian.sources >&2
# Plain `dpkg-deb -x` would replace the merged-/usr /lib symlink by a directory.
dpkg-deb --fsys-tarfile "$tmp/$kpkg"_*.deb | tar -x -C "$R" --keep-directory-symlink
cp "$R/boot/vmlinuz-$kver" "$tmp/vmlinuz"
chroot "$R" depmod -a "$kver"

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
touch "$R/etc/cloud/cloud-init.disabled"
chroot "$R" systemctl disable --quiet ssh.service
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
for _ in $(seq 50); do [ -b /dev/nvme0n2 ] && break; sleep 0.2; done
mount -t ext4 /dev/nvme0n2 "$share" || { say "cannot mount the share disk /dev/nvme0n2"; exit 1; }
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
rm -rf "$R" "$tmp"/*.deb
rm -rf "$dir"
chmod 755 "$tmp"
mv "$tmp" "$dir"
trap - EXIT
echo "image.sh: built $dir in $((SECONDS - t0)) s" >&2
echo "$dir"
