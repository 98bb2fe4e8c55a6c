#!/bin/bash
# t1500-go-programs.sh - Go programs as Debian's own toolchain builds them, static (CGO_ENABLED=0)
# and linked against libc (cgo), deployed without manifest tweaks. gohome stops without HOME, as
# many real programs do: under a bare DynamicUser unit it fails; deployed by berth it runs, with
# HOME and XDG directories in its own state and cache directories. Also: a health check on a
# large page reads it to the end, and listing interfaces needs AF_NETLINK (refused silently).
# shellcheck source-path=SCRIPTDIR disable=SC2016,SC2034,SC2317 # bodies are evaluated by test-lib.sh
test_description='berth deploy: Go programs that need HOME, static and cgo'
. "$(dirname "$0")/test-lib.sh"
. "$(dirname "$0")/lib-berth.sh"

GOHOME=$FIXTURES/gohome/gohome
GOHOME_CGO=$FIXTURES/gohome/gohome-cgo

# environ NAME: the main process's environment, one variable a line
environ() {
	tr '\0' '\n' </proc/"$(main_pid "$1")"/environ
}

# journal NAME: what the service printed in this boot
journal() {
	journalctl -q -b -o cat -u "$1.service"
}

test_expect_success 'the fixtures are what they claim: one static, one linked against libc' '
	manifest check.ini gocheck 8171 &&
	"$BERTH" check --json --binary "$GOHOME" check.ini >static.json &&
	json_get static.json ".binary.static == true" &&
	json_get static.json ".binary.go_build.cgo_enabled == false" &&
	"$BERTH" check --json --binary "$GOHOME_CGO" check.ini >cgo.json &&
	json_get cgo.json ".binary.static == false" &&
	json_get cgo.json ".binary.go_build.cgo_enabled == true"
'

test_expect_success 'without a HOME the program stops: a bare DynamicUser unit is not enough' '
	install -m 0755 "$GOHOME" /usr/local/sbin/gohome-bare &&
	test_when_finished "rm -f /usr/local/sbin/gohome-bare" &&
	test_must_fail systemd-run -q --wait --pipe --collect -p DynamicUser=yes \
		/usr/local/sbin/gohome-bare -listen 127.0.0.1:8171 >bare.out 2>&1 &&
	cat bare.out &&
	grep -q "gohome: no home directory: \$HOME is not defined" bare.out
'

test_expect_success 'the static build deploys as it is and is healthy' '
	manifest gostatic.ini gostatic 8171 "service.binary = $GOHOME" &&
	"$BERTH" deploy gostatic.ini >deploy.out &&
	cat deploy.out &&
	curl -fsS --max-time 2 http://127.0.0.1:8171/healthz &&
	"$BERTH" status --json gostatic >status.json &&
	json_get status.json ".services[0].health.healthy"
'

test_expect_success 'its HOME and XDG directories are in its own state and cache directories' '
	environ gostatic >environ &&
	grep -qx "HOME=/var/lib/gostatic" environ &&
	grep -qx "XDG_CONFIG_HOME=/var/lib/gostatic/.config" environ &&
	grep -qx "XDG_DATA_HOME=/var/lib/gostatic/.local/share" environ &&
	grep -qx "XDG_STATE_HOME=/var/lib/gostatic/.local/state" environ &&
	grep -qx "XDG_CACHE_HOME=/var/cache/gostatic" environ &&
	test "$(cat /var/cache/gostatic/gohome/started)" = "$(main_pid gostatic)" &&
	test -d /var/lib/gostatic/.config/gohome &&
	test "$(stat -c %U /var/cache/private/gostatic)" = "$(stat -c %U /var/lib/private/gostatic)" &&
	journal gostatic >log &&
	grep -q "gohome: home=/var/lib/gostatic config=/var/lib/gostatic/.config cache=/var/cache/gostatic cgo=false" log
'

test_expect_success 'berth render shows them' '
	"$BERTH" render --binary "$GOHOME" gostatic.ini >render.out &&
	grep -qx "CacheDirectory=gostatic" render.out &&
	grep -qx "Environment=\"HOME=/var/lib/gostatic\"" render.out &&
	grep -qx "Environment=\"XDG_CACHE_HOME=/var/cache/gostatic\"" render.out
'

test_expect_success 'listing interfaces is refused without AF_NETLINK, and nothing records why' '
	since=$(date "+%Y-%m-%d %H:%M:%S") &&
	curl -sS --max-time 2 -o ifs.out -w "%{http_code}" http://127.0.0.1:8171/interfaces >code &&
	cat ifs.out &&
	test "$(cat code)" = 500 &&
	grep -q "address family not supported by protocol" ifs.out &&
	journalctl -q -b --since "$since" -k >kernel.log &&
	! grep -qi "gohome\|gostatic\|seccomp\|audit" kernel.log &&
	journalctl -q -b --since "$since" _TRANSPORT=audit >audit.log &&
	! grep -q "gostatic\|gohome" audit.log
'

test_expect_success 'address_families = AF_NETLINK lets it list them' '
	manifest gostatic.ini gostatic 8171 "service.binary = $GOHOME" "hardening.address_families = AF_NETLINK" &&
	"$BERTH" deploy gostatic.ini &&
	curl -fsS --max-time 2 http://127.0.0.1:8171/interfaces >ifs.out &&
	cat ifs.out &&
	grep -qw lo ifs.out
'

test_expect_success 'the cgo build deploys as it is and is healthy, resolving and looking up through libc' '
	manifest gocgo.ini gocgo 8172 "service.binary = $GOHOME_CGO" &&
	"$BERTH" deploy gocgo.ini &&
	curl -fsS --max-time 2 http://127.0.0.1:8172/healthz &&
	journal gocgo >log &&
	cat log &&
	grep -q "gohome: home=/var/lib/gocgo config=/var/lib/gocgo/.config cache=/var/cache/gocgo cgo=true" log &&
	grep -q "localhost=\[.*127.0.0.1.*\]" log &&
	environ gocgo >environ &&
	grep -qx "HOME=/var/lib/gocgo" environ &&
	grep -qx "XDG_CACHE_HOME=/var/cache/gocgo" environ
'

test_expect_success 'a variable set in [environment] wins, and is set once' '
	manifest gocgo.ini gocgo 8172 "service.binary = $GOHOME_CGO" \
		"environment.XDG_CACHE_HOME = /var/lib/gocgo/my-cache" &&
	"$BERTH" deploy gocgo.ini &&
	environ gocgo >environ &&
	test "$(grep -c "^XDG_CACHE_HOME=" environ)" = 1 &&
	grep -qx "XDG_CACHE_HOME=/var/lib/gocgo/my-cache" environ &&
	grep -qx "HOME=/var/lib/gocgo" environ &&
	test "$(cat /var/lib/gocgo/my-cache/gohome/started)" = "$(main_pid gocgo)"
'

test_expect_success 'a health check on a large page reads it to the end: no failed write' '
	manifest gomet.ini gomet 8173 "service.binary = $GOHOME" \
		"service.args = -listen 127.0.0.1:8173 -metrics-size 8388608" \
		"health.http = http://127.0.0.1:8173/metrics" "health.timeout = 20s" "health.interval = 20s" &&
	# (a timeout that lets an emulated CPU shared by two VMs read 8 MiB: a probe that times out
	# closes early too, and the service logs that failed write)
	"$BERTH" deploy gomet.ini >deploy.out &&
	cat deploy.out &&
	grep -q "healthy" deploy.out &&
	journal gomet >log &&
	! grep -q "write failed" log
'

test_expect_success 'a client that closes early makes the same service log a failed write' '
	exec 3<>/dev/tcp/127.0.0.1/8173 &&
	printf "GET /metrics?bytes=67108864 HTTP/1.0\r\n\r\n" >&3 &&
	read -r status <&3 &&
	exec 3<&- &&
	case $status in "HTTP/1.0 200"*) ;; *) false ;; esac &&
	for i in $(seq 50); do journal gomet | grep -q "write failed" && break; sleep 0.1; done &&
	journal gomet >log &&
	grep -q "gohome: metrics: write failed after" log
'

test_expect_success 'clean up' '
	for s in gostatic gocgo gomet; do
		remove_service $s
		# berth remove --purge does not know CacheDirectory= yet
		rm -rf /var/cache/$s /var/cache/private/$s
	done &&
	test ! -e /etc/systemd/system/gostatic.service
'

test_done
