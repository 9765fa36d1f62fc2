#!/usr/bin/env bash
# Starts the libvirt stack the libvirt provider talks to (idempotent; `npm run libvirt:up`):
#   Debian packages (when missing), the D-Bus system bus, virtlogd, libvirtd (with
#   scripts/libvirt/libvirtd.conf) and libvirt-dbus on the system bus, and the default
#   storage pool `cimi` (dir pool in $LIBVIRT_POOL_DIR, default /var/lib/cimi-gateway/pool).
# Records what it started in $STATE (pids), so `npm run libvirt:down` stops only that.
# Needs root (or the packages installed and the services already running).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
STATE=${LIBVIRT_STATE_DIR:-/run/cimi-gateway-libvirt}
POOL_DIR=${LIBVIRT_POOL_DIR:-/var/lib/cimi-gateway/pool}
POOL=${LIBVIRT_POOL:-cimi}
say() { printf 'libvirt-up: %s\n' "$*"; }
die() { printf 'libvirt-up: ERROR: %s\n' "$*" >&2; exit 1; }

packages=(dbus libvirt-daemon-system libvirt-daemon-driver-qemu libvirt-clients libvirt-dbus
          qemu-system-x86 qemu-utils genisoimage dnsmasq-base)
missing=()
for p in "${packages[@]}"; do
  dpkg -s "$p" 2>/dev/null | grep -q '^Status: install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  [ "$(id -u)" = 0 ] || die "not root; install: ${missing[*]}"
  say "apt: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q >/tmp/libvirt-up-apt.log 2>&1 || { tail -20 /tmp/libvirt-up-apt.log >&2; die "apt-get update failed"; }
  apt-get install -y -q --no-install-recommends "${missing[@]}" >>/tmp/libvirt-up-apt.log 2>&1 \
    || { tail -20 /tmp/libvirt-up-apt.log >&2; die "apt-get install failed"; }
fi
[ "$(id -u)" = 0 ] || { say "not root: assuming the services run"; exit 0; }
mkdir -p "$STATE"

alive() { [ -f "$STATE/$1.pid" ] && kill -0 "$(cat "$STATE/$1.pid")" 2>/dev/null; }
wait_for() { # wait_for <what> <command...>
  local what=$1; shift
  for _ in $(seq 1 100); do "$@" >/dev/null 2>&1 && return 0; sleep 0.1; done
  die "$what did not come up"
}

# 1. D-Bus system bus (Debian's own configuration; no systemd here)
if [ -S /run/dbus/system_bus_socket ] && dbus-send --system --print-reply --dest=org.freedesktop.DBus / org.freedesktop.DBus.GetId >/dev/null 2>&1; then
  say "dbus: system bus already running"
else
  mkdir -p /run/dbus
  rm -f /run/dbus/pid /run/dbus/system_bus_socket
  dbus-daemon --system --fork --print-pid >"$STATE/dbus.pid"
  wait_for "dbus" dbus-send --system --print-reply --dest=org.freedesktop.DBus / org.freedesktop.DBus.GetId
  say "dbus: started (pid $(cat "$STATE/dbus.pid"))"
fi

# 2. libvirt-dbus must reach the RW socket as its own user: group `libvirt` (see libvirtd.conf)
[[ " $(id -nG libvirtdbus) " == *" libvirt "* ]] || usermod -a -G libvirt libvirtdbus

# 3. virtlogd and libvirtd
if pgrep -x virtlogd >/dev/null; then say "virtlogd: already running"; else
  virtlogd -d --pid-file "$STATE/virtlogd.pid"
  wait_for "virtlogd" test -s "$STATE/virtlogd.pid"
  say "virtlogd: started"
fi
# a libvirtd that is still exiting (stopped a moment ago) is waited for, not taken for a running one
for _ in $(seq 1 50); do
  virsh -c qemu:///system version >/dev/null 2>&1 || ! pgrep -x libvirtd >/dev/null && break
  sleep 0.1
done
if virsh -c qemu:///system version >/dev/null 2>&1; then say "libvirtd: already running"; else
  libvirtd -d --config "$PWD/scripts/libvirt/libvirtd.conf" --pid-file "$STATE/libvirtd.pid"
  wait_for "libvirtd" virsh -c qemu:///system version
  say "libvirtd: started"
fi

# 4. libvirt-dbus on the system bus, as Debian's service file runs it (User=libvirtdbus); a
#    ping would also start it by D-Bus activation, so ask the bus whether the name has an owner
if dbus-send --system --print-reply --dest=org.freedesktop.DBus / org.freedesktop.DBus.NameHasOwner string:org.libvirt 2>/dev/null | grep -q 'boolean true' && dbus-send --system --print-reply --dest=org.libvirt /org/libvirt/QEMU org.freedesktop.DBus.Peer.Ping >/dev/null 2>&1; then
  say "libvirt-dbus: already running"
else
  setpriv --reuid=libvirtdbus --regid=libvirtdbus --init-groups /usr/sbin/libvirt-dbus --system \
    >"$STATE/libvirt-dbus.log" 2>&1 &
  echo $! >"$STATE/libvirt-dbus.pid"
  wait_for "libvirt-dbus" dbus-send --system --print-reply --dest=org.libvirt /org/libvirt/QEMU org.freedesktop.DBus.Peer.Ping
  say "libvirt-dbus: started (pid $(cat "$STATE/libvirt-dbus.pid"))"
fi

# 5. the storage pool the provider keeps images and disks in
if ! virsh -q -c qemu:///system pool-info "$POOL" >/dev/null 2>&1; then
  mkdir -p "$POOL_DIR"
  virsh -q -c qemu:///system pool-define-as "$POOL" dir --target "$POOL_DIR" >/dev/null
  virsh -q -c qemu:///system pool-autostart "$POOL" >/dev/null
fi
# (no `| grep -q` under pipefail: grep's early exit would fail the pipeline with SIGPIPE)
[[ "$(virsh -q -c qemu:///system pool-info "$POOL")" =~ State:[[:space:]]+running ]] || virsh -q -c qemu:///system pool-start "$POOL" >/dev/null
say "pool: $POOL in $(virsh -q -c qemu:///system pool-dumpxml "$POOL" | sed -n 's:.*<path>\(.*\)</path>.*:\1:p')"
# 6. a tiny bootable base image (no download): a boot sector that prints a line on the
#    serial-less VGA console and halts. Enough for QEMU to run a real guest under TCG; it has
#    no OS, so it does not answer ACPI (stop falls back to destroy after LIBVIRT_SHUTDOWN_TIMEOUT_S).
BASE=tiny-boot.qcow2
if ! virsh -q -c qemu:///system vol-info --pool "$POOL" "$BASE" >/dev/null 2>&1; then
  dir=$(virsh -q -c qemu:///system pool-dumpxml "$POOL" | sed -n 's:.*<path>\(.*\)</path>.*:\1:p')
  raw=$(mktemp)
  truncate -s 1M "$raw"
  # mov si,0x7c11; mov ah,0x0e; lodsb; or al,al; jz +4; int 0x10; jmp -9; hlt; jmp -3; "cimi-gateway tiny guest"
  printf '\xbe\x11\x7c\xb4\x0e\xac\x08\xc0\x74\x04\xcd\x10\xeb\xf7\xf4\xeb\xfdcimi-gateway tiny guest\r\n\x00' | dd of="$raw" conv=notrunc status=none
  printf '\x55\xaa' | dd of="$raw" bs=1 seek=510 conv=notrunc status=none
  qemu-img convert -q -f raw -O qcow2 "$raw" "$dir/$BASE"
  rm -f "$raw"
  virsh -q -c qemu:///system pool-refresh "$POOL" >/dev/null
fi
say "base image: $BASE"
say "ready"
