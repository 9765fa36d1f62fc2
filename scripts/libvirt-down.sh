#!/usr/bin/env bash
# Stops what scripts/libvirt-up.sh started (its pid files), in reverse order; leaves
# services it found running alone. Domains and networks named cimi-* are destroyed first
# so that no QEMU process outlives the run.
set -uo pipefail
STATE=${LIBVIRT_STATE_DIR:-/run/cimi-gateway-libvirt}
[ -d "$STATE" ] || exit 0
if virsh -c qemu:///system version >/dev/null 2>&1; then
  for d in $(virsh -q -c qemu:///system list --name --state-running --state-paused 2>/dev/null | grep '^cimi-'); do
    virsh -q -c qemu:///system destroy "$d" >/dev/null 2>&1
  done
  for n in $(virsh -q -c qemu:///system net-list --name 2>/dev/null | grep '^cimi-'); do
    virsh -q -c qemu:///system net-destroy "$n" >/dev/null 2>&1
  done
fi
# libvirt-dbus is started by D-Bus activation on the bus we started: it goes with that bus
if [ -f "$STATE/dbus.pid" ]; then pkill -x libvirt-dbus 2>/dev/null && printf 'libvirt-down: stopped libvirt-dbus\n'; fi
for s in libvirt-dbus libvirtd virtlogd dbus; do
  f="$STATE/$s.pid"
  [ -f "$f" ] || continue
  pid=$(cat "$f")
  if kill "$pid" 2>/dev/null; then
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null
    printf 'libvirt-down: stopped %s\n' "$s"
  fi
  rm -f "$f"
done
exit 0
