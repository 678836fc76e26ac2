#!/usr/bin/env bash
# The Debian packages, end to end (issue 17, "Packages and services"):
#   1. packaging/make-debs builds dove-controller, dove-switch (with dove-cni) and dovectl from
#      the build tree;
#   2. dpkg-deb -c / -I: every file where it belongs, Depends, conffiles, the version;
#   3. lintian: no error and no warning, except the tags tolerated below (each with its reason);
#   4. a fresh root: an overlayfs over / (upper: a temporary directory) in private mount, PID,
#      network, UTS and IPC namespaces, chrooted, systemd booted as its PID 1 (to an empty
#      target: nothing of the host's starts); the packages installed there with dpkg -i, whose
#      postinst enables and starts the services;
#   5. the services restarted with systemctl: both active, the controller answering dovectl with
#      the token the package made, the switch registered and UP and making an endpoint's TAP,
#      the controller's lines in the journal, the switch's records with PRIORITY and DOVE_*
#      fields (native protocol) and its debug records once log-level = "debug" in its config,
#      the controller running as the dove user, dovectl's completion in bash, the installed
#      dove-cni answering VERSION;
#   6. dpkg --purge: the services stopped, the token and configuration gone.
# Needs root (namespaces, overlayfs, dpkg -i); skips (exit 77) otherwise. Everything it makes
# lives in the namespaces and one temporary directory, removed on exit, also on failure.
# Usage: tests/packages/packages_test.sh SOURCE_DIR BUILD_DIR
set -euo pipefail

if [[ ${1:-} == --boot ]]; then
  # Inside the new namespaces (PID 1 of the PID namespace): build the root, give it cgroups of
  # its own, then become systemd.
  work=$2
  root=$work/root
  mount --make-rprivate /
  # The host's cgroup hierarchies (TARGET FSTYPE FS-OPTIONS), before the root's /sys repeats them.
  findmnt -rn -t cgroup,cgroup2 -o TARGET,FSTYPE,FS-OPTIONS >"$work/hierarchies"
  mount -t overlay dove-packages-test -o "lowerdir=/,upperdir=$work/upper,workdir=$work/overlay-work" "$root"
  mount -t proc proc "$root/proc"
  mount --rbind /sys "$root/sys"
  mount --rbind /dev "$root/dev"
  # systemd writes its own messages to the console: to a file here, not the host's console.
  mount --bind "$work/console.log" "$root/dev/console"
  mount -t tmpfs tmpfs "$root/run"
  mount -t tmpfs tmpfs "$root/tmp"
  mkdir -p "$root/var/tmp/dove-debs"
  cp "$work"/debs/*.deb "$root/var/tmp/dove-debs/"
  # man-db's trigger would index every manual page of the host: seconds for nothing.
  rm -f "$root/var/lib/man-db/auto-update"
  # This host is a container image whose policy-rc.d forbids starting services; a Debian
  # system has none, and the maintainer scripts are to be tested as they run there.
  rm -f "$root/usr/sbin/policy-rc.d"
  # An empty boot target: systemd starts what the test asks for, nothing the host enables.
  printf '[Unit]\nDescription=DOVE package test\n' >"$root/etc/systemd/system/dove-test.target"
  # cgroups: this process moves into a new cgroup of every hierarchy (written down for the
  # cleanup), which a cgroup namespace then shows systemd as the root, as a container manager
  # does; journald names a process's unit from its cgroup path (journalctl -u).
  while read -r target fstype options; do
    controllers=${options#rw}
    controllers=${controllers#,}
    [[ $fstype == cgroup2 ]] && controllers=
    path=$(awk -F: -v c="$controllers" '$2 == c { print $3 }' /proc/self/cgroup)
    cgroup=$target${path%/}/dove-packages-test-$3
    mkdir "$cgroup" || continue
    echo "$cgroup" >>"$work/cgroups"
    # (cpuset's cgroups take no process before their cpus and mems are set: left where it is)
    echo 0 >"$cgroup/cgroup.procs" 2>/dev/null || true
  done <"$work/hierarchies"
  exec unshare --cgroup -- "$0" --cgroups "$work"
fi
if [[ ${1:-} == --cgroups ]]; then
  # In the cgroup namespace: the root's /sys/fs/cgroup, mounted afresh (showing the
  # namespace's cgroups), then systemd.
  work=$2
  root=$work/root
  mount -t tmpfs -o mode=755 tmpfs "$root/sys/fs/cgroup"
  while read -r target fstype options; do
    mkdir -p "$root$target"
    if [[ $fstype == cgroup2 ]]; then
      mount -t cgroup2 cgroup2 "$root$target"
    else
      mount -t cgroup -o "${options#rw,}" cgroup "$root$target"
    fi
  done <"$work/hierarchies"
  export container=dove-packages-test
  exec chroot "$root" /lib/systemd/systemd --system --unit=dove-test.target --log-target=console
fi

source_dir=$(realpath "$1")
build_dir=$(realpath "$2")
started=$(date +%s.%N)
if [[ $(id -u) -ne 0 ]]; then
  echo "SKIP: needs root (namespaces, overlayfs, dpkg -i into a root of its own)"
  exit 77
fi
for tool in dpkg-deb lintian unshare nsenter help2man; do
  command -v "$tool" >/dev/null || { echo "FAIL: $tool missing (scripts/install-deps)"; exit 1; }
done

work=$(mktemp -d /tmp/dove-packages-test.XXXXXX)
boot_pid=
systemd_pid=
cleanup() {
  local status=$?
  if [[ -n $systemd_pid ]] && kill -0 "$systemd_pid" 2>/dev/null; then
    # systemd as PID 1 of a container exits on poweroff; its namespace's processes go with it.
    in_root systemctl poweroff >/dev/null 2>&1 || true
    for _ in $(seq 50); do kill -0 "$systemd_pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$systemd_pid" 2>/dev/null || true
  elif [[ -n $boot_pid ]]; then
    kill -KILL "$boot_pid" 2>/dev/null || true
  fi
  [[ -n $boot_pid ]] && wait "$boot_pid" 2>/dev/null || true
  # The root's cgroups and those systemd made below them (empty once it is gone), deepest first.
  if [[ -f $work/cgroups ]]; then
    while read -r cgroup; do
      [[ -d $cgroup ]] && find "$cgroup" -depth -type d -exec rmdir {} + 2>/dev/null || true
    done <"$work/cgroups"
  fi
  if [[ $status -ne 0 ]]; then
    for log in dpkg-install.log console.log; do
      [[ -s $work/$log ]] && { echo "--- $log (last 30 lines)"; tail -30 "$work/$log"; }
    done
  fi
  rm -rf "$work"
  echo "packages_test: $(awk -v a="$started" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }') s"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 143' TERM INT # (ctest's timeout): the cleanup runs then too

fail() {
  echo "FAIL: $*"
  exit 1
}
ok() { echo "ok ($(awk -v a="$started" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }') s): $*"; }

# 1. Build the packages.
"$source_dir/packaging/make-debs" "$build_dir" "$work/debs" >/dev/null
version=$("$build_dir/src/cli/dovectl" --version | awk '{print $2}')
arch=$(dpkg --print-architecture)

# 2. Their contents and control fields.
check_package() {
  local package=$1 deb=$work/debs/${1}_${version}_$arch.deb listing info path
  shift
  [[ -f $deb ]] || fail "$deb not built"
  listing=$(dpkg-deb -c "$deb" | awk '{print $6}')
  for path in "$@"; do
    grep -qxF ".$path" <<<"$listing" || fail "$package: no $path in the package"
  done
  info=$(dpkg-deb -I "$deb")
  grep -q "^ Version: $version$" <<<"$info" || fail "$package: Version is not $version"
  grep -q "^ Depends: .*libc6 (>= " <<<"$info" || fail "$package: Depends lacks libc6: $info"
  ok "$package: $# files in place, Version $version, Depends from dpkg-shlibdeps"
}
check_package dove-controller /usr/sbin/dove-controller /lib/systemd/system/dove-controller.service \
  /etc/dove/controller.toml /usr/share/man/man8/dove-controller.8.gz \
  /usr/share/doc/dove-controller/copyright /usr/share/doc/dove-controller/changelog.gz
check_package dove-switch /usr/sbin/dove-switch /usr/lib/cni/dove-cni /lib/systemd/system/dove-switch.service \
  /etc/dove/switch.toml /usr/share/man/man8/dove-switch.8.gz \
  /usr/share/doc/dove-switch/copyright /usr/share/doc/dove-switch/changelog.gz
check_package dovectl /usr/bin/dovectl /usr/share/man/man1/dovectl.1.gz \
  /usr/share/bash-completion/completions/dovectl /usr/share/doc/dovectl/copyright
[[ $(dpkg-deb -f "$work/debs/dove-controller_${version}_$arch.deb" Depends) == *adduser* ]] ||
  fail "dove-controller: its postinst runs adduser, Depends must say so"
[[ $(dpkg-deb --ctrl-tarfile "$work/debs/dove-controller_${version}_$arch.deb" | tar -xO ./conffiles) == /etc/dove/controller.toml ]] ||
  fail "dove-controller: conffiles is not /etc/dove/controller.toml"
[[ $(dpkg-deb --ctrl-tarfile "$work/debs/dove-switch_${version}_$arch.deb" | tar -xO ./conffiles) == /etc/dove/switch.toml ]] ||
  fail "dove-switch: conffiles is not /etc/dove/switch.toml"
ok "conffiles and adduser"

# 3. lintian: errors and warnings fail the test. Tolerated (none so far): add a tag to
# `tolerated` only with the reason next to it.
tolerated=()
lintian_args=(--fail-on error,warning)
[[ ${#tolerated[@]} -eq 0 ]] || lintian_args+=(--suppress-tags "$(IFS=,; echo "${tolerated[*]}")")
lintian_status=0
lintian_output=$(lintian "${lintian_args[@]}" "$work"/debs/*.deb 2>&1) || lintian_status=$?
grep -v 'running with root privileges' <<<"$lintian_output" || true
[[ $lintian_status -eq 0 ]] || fail "lintian (exit $lintian_status, its output above)"
ok "lintian: no error, no warning"

# 4. A fresh root, systemd as its PID 1.
mkdir -p "$work/upper" "$work/overlay-work" "$work/root"
touch "$work/console.log"
unshare --mount --pid --fork --net --uts --ipc -- "$0" --boot "$work" "$$" &
boot_pid=$!
for _ in $(seq 100); do
  systemd_pid=$(cat "/proc/$boot_pid/task/$boot_pid/children" 2>/dev/null | awk '{print $1}')
  [[ -n $systemd_pid ]] && break
  sleep 0.05
done
[[ -n $systemd_pid ]] || fail "unshare started nothing"
# What systemd says of a unit, and its last journal lines.
status_of() {
  in_root systemctl status --no-pager --lines=0 "$1" 2>&1 || true
  in_root journalctl --no-pager -o cat -n 15 -u "$1" 2>&1 || true
}
in_root() {
  nsenter --target "$systemd_pid" --mount --uts --ipc --net --pid --cgroup --root --wd -- "$@"
}
for _ in $(seq 200); do
  [[ $(cat "/proc/$systemd_pid/comm" 2>/dev/null) == systemd ]] &&
    in_root systemctl is-system-running >/dev/null 2>&1 && break
  sleep 0.1
done
state=$(in_root systemctl is-system-running 2>&1 || true)
[[ $state == running || $state == degraded ]] || fail "systemd did not come up in the root: $state"
ok "systemd is PID 1 of a fresh root ($state; overlayfs over /, private namespaces)"
in_root sh -c 'dpkg -i /var/tmp/dove-debs/*.deb' >"$work/dpkg-install.log" 2>&1 ||
  fail "dpkg -i of the packages into the root failed"
ok "dpkg -i"

# The units as systemd reads them (systemd-analyze verify: unknown keys, bad paths, ...).
verify=$(in_root systemd-analyze verify /lib/systemd/system/dove-controller.service \
  /lib/systemd/system/dove-switch.service 2>&1) || fail "systemd-analyze verify: $verify"
[[ -z $verify ]] || fail "systemd-analyze verify says: $verify"
ok "systemd-analyze verify: clean"
in_root getent passwd dove >/dev/null || fail "postinst made no dove user"
[[ $(in_root stat -c '%U:%G %a' /etc/dove/token) == "root:dove 640" ]] || fail "/etc/dove/token"
[[ $(in_root systemctl is-enabled dove-controller dove-switch | sort -u) == enabled ]] ||
  fail "the services are not enabled"

# 5. The services, started for real: by the postinst, then again by hand.
for unit in dove-controller dove-switch; do
  [[ $(in_root systemctl is-active "$unit") == active ]] ||
    fail "$unit not started by its postinst: $(status_of "$unit")"
done
ok "the postinst scripts started both services"
in_root timeout 30 systemctl restart dove-controller dove-switch ||
  fail "systemctl restart: $(in_root systemctl status --no-pager dove-controller dove-switch 2>&1 | tail -30)"
for unit in dove-controller dove-switch; do
  [[ $(in_root systemctl is-active "$unit") == active ]] || fail "$unit is not active: $(status_of "$unit")"
done
ok "systemctl restart dove-controller dove-switch: both active (Type=notify: READY=1 arrived)"
[[ $(in_root ps -o user= -p "$(in_root systemctl show -P MainPID dove-controller)") == dove ]] ||
  fail "the controller does not run as the dove user"
ok "the controller runs as dove"

dovectl=(in_root dovectl --token-file /etc/dove/token)
status=$("${dovectl[@]}" -o json status) || fail "dovectl status: $status"
grep -q '"status": *"ok"' <<<"$status" || fail "dovectl status: $status"
ok "dovectl status answers with the token the package made"
in_root dovectl domain list >/dev/null 2>&1 && fail "the API answered without the token"
"${dovectl[@]}" domain list >/dev/null || fail "dovectl domain list with the token"
ok "the API: with the token an answer, without it none"
for _ in $(seq 100); do
  switches=$("${dovectl[@]}" -o json switch list 2>&1 || true)
  grep -q '"name": *"local"' <<<"$switches" && grep -q 'STATE_UP' <<<"$switches" && break
  sleep 0.1
done
grep -q '"name": *"local"' <<<"$switches" && grep -q 'STATE_UP' <<<"$switches" ||
  fail "the switch 'local' is not UP at the controller: $switches"
ok "dovectl switch list: the switch 'local' is UP"
in_root dovectl switch show >/dev/null || fail "dovectl switch show (the control socket)"
ok "dovectl switch show answers on /run/dove/dove-switch.sock"
cni_version=$(in_root env CNI_COMMAND=VERSION /usr/lib/cni/dove-cni) ||
  fail "dove-cni VERSION failed: $cni_version"
grep -q '"supportedVersions":\["0.4.0","1.0.0"\]' <<<"$cni_version" ||
  fail "dove-cni VERSION: $cni_version"
ok "/usr/lib/cni/dove-cni answers VERSION"
# The switch at work under its hardening (CAP_NET_ADMIN, /dev/net/tun only): an endpoint placed
# on it gets its TAP, port vm1.
"${dovectl[@]}" domain create acme >/dev/null || fail "dovectl domain create"
"${dovectl[@]}" network create acme/web --subnet 10.1.0.0/24 --gateway 10.1.0.1 >/dev/null ||
  fail "dovectl network create"
"${dovectl[@]}" endpoint create acme/web --switch local --port vm1 >/dev/null ||
  fail "dovectl endpoint create"
for _ in $(seq 100); do
  in_root ip link show vm1 >/dev/null 2>&1 && break
  sleep 0.1
done
in_root ip link show vm1 >/dev/null 2>&1 ||
  fail "the switch made no TAP vm1 for the endpoint: $(status_of dove-switch)"
in_root dovectl switch ports | grep -q vm1 || fail "dovectl switch ports lacks vm1"
ok "an endpoint on the switch: its TAP vm1 made by the service, in dovectl switch ports"
journal=$(in_root journalctl -u dove-controller --no-pager -o cat 2>&1)
grep -q "^serving /var/lib/dove" <<<"$journal" ||
  fail "journalctl -u dove-controller lacks the controller's lines: $journal
$(in_root systemctl status --no-pager systemd-journald 2>&1 | head -20; in_root journalctl --no-pager -n 20 2>&1)"
in_root journalctl -u dove-switch --no-pager -o cat | grep -q "connected to 127.0.0.1:8741" ||
  fail "journalctl -u dove-switch lacks the connection"
ok "journalctl -u dove-controller / dove-switch: their lines"
# The records came through the journal's native protocol (base/log.h): a PRIORITY from their
# level and their fields as DOVE_*; at the default log-level no debug record.
records=$(in_root journalctl -u dove-switch --no-pager -o json 2>&1)
grep -q '"PRIORITY":"6"' <<<"$records" && grep -q '"DOVE_PORT":"vm1"' <<<"$records" ||
  fail "journalctl -u dove-switch -o json: no PRIORITY 6 record with DOVE_PORT=vm1: $(tail -3 <<<"$records")"
grep -q '"PRIORITY":"7"' <<<"$records" && fail "a debug record at the default log-level: $(grep '"PRIORITY":"7"' <<<"$records" | head -1)"
ok "journalctl -u dove-switch -o json: PRIORITY 6, DOVE_PORT=vm1, no debug record"
# log-level = "debug" in the configuration: after a restart the switch's debug records follow.
in_root sed -i 's/^log-level = .*/log-level = "debug"/' /etc/dove/switch.toml
in_root grep -q '^log-level = "debug"' /etc/dove/switch.toml || fail "switch.toml has no log-level key"
in_root timeout 30 systemctl restart dove-switch || fail "systemctl restart dove-switch: $(status_of dove-switch)"
for _ in $(seq 100); do
  in_root journalctl -u dove-switch --no-pager -o json -p debug 2>&1 | grep -q '"PRIORITY":"7"' && break
  sleep 0.1
done
debug=$(in_root journalctl -u dove-switch --no-pager -o json 2>&1 | grep '"PRIORITY":"7"' | head -1)
[[ -n $debug ]] || fail "log-level = \"debug\": no debug record of the switch: $(status_of dove-switch)"
grep -q '"CODE_FILE":"src/' <<<"$debug" || fail "a debug record without CODE_FILE: $debug"
ok "log-level = \"debug\" in switch.toml: debug records (PRIORITY 7) in the journal"
completion=$(cat "$source_dir/tests/packages/completion_test.sh")
in_root bash -c "$completion" completion_test dovectl /usr/share/bash-completion/completions/dovectl \
  >/dev/null || fail "the installed bash completion"
ok "the installed bash completion completes in bash"

# 6. Removal: prerm stops the services, purge takes the configuration and the token.
in_root dpkg --purge dovectl dove-switch dove-controller >"$work/dpkg-purge.log" 2>&1 ||
  fail "dpkg --purge: $(cat "$work/dpkg-purge.log")"
for unit in dove-controller dove-switch; do
  [[ $(in_root systemctl is-active "$unit" || true) != active ]] || fail "$unit still runs after purge"
done
in_root test -e /etc/dove && fail "/etc/dove is still there after purge"
ok "dpkg --purge: services stopped, /etc/dove gone"
echo "PASS"
