#!/bin/bash
# Build the root file system of harborctl's test base image (a test fixture, not part of harborctl).
#   mkrootfs.sh ROOTFS
# Environment: HARBORCTL_TEST_SUITE (Debian suite), HARBORCTL_TEST_MIRROR (Debian mirror URL),
# HARBORCTL_TEST_PACKAGES (comma-separated list for debootstrap --include).
# The image gets the users the real Harbor images run as: harbor 10000:10000 and postgres 999:999.
set -euo pipefail

rootfs=${1:?usage: mkrootfs.sh ROOTFS}
suite=${HARBORCTL_TEST_SUITE:?}
mirror=${HARBORCTL_TEST_MIRROR:?}
packages=${HARBORCTL_TEST_PACKAGES:?}

debootstrap --variant=minbase --include="$packages" "$suite" "$rootfs" "$mirror"

in_root() { chroot "$rootfs" "$@"; }

# Harbor's own services run as uid/gid 10000.
in_root groupadd --gid 10000 harbor
in_root useradd --uid 10000 --gid 10000 --no-create-home --home-dir /nonexistent \
  --shell /usr/sbin/nologin harbor

# The real database image runs PostgreSQL as 999:999; Debian's postinst gave it the next free id.
old_uid=$(in_root id -u postgres)
old_gid=$(in_root id -g postgres)
if in_root getent group 999 >/dev/null || in_root getent passwd 999 >/dev/null; then
  echo "mkrootfs: uid or gid 999 is already taken in the base image" >&2
  exit 1
fi
in_root groupmod --gid 999 postgres
in_root usermod --uid 999 --gid 999 postgres
find "$rootfs" -xdev -uid "$old_uid" -exec chown -h 999 {} +
find "$rootfs" -xdev -gid "$old_gid" -exec chgrp -h 999 {} +

# The cluster Debian's postinst created is not used: the database image initialises its own.
rm -rf "$rootfs"/var/lib/postgresql/15 "$rootfs"/etc/postgresql/15
# PostgreSQL's LLVM JIT (and the LLVM it pulls in) is optional and large.
rm -rf "$rootfs"/usr/lib/postgresql/*/lib/llvmjit* "$rootfs"/usr/lib/postgresql/*/lib/bitcode
rm -f "$rootfs"/usr/lib/x86_64-linux-gnu/libLLVM-*.so* "$rootfs"/usr/lib/x86_64-linux-gnu/libz3.so*

# No image may rely on a file in /etc/nginx: the proxy gets the whole directory from the host,
# and the images that run nginx on their own carry their own configuration.
rm -rf "${rootfs:?}"/etc/nginx/*
# nginx's compiled-in log files: the package leaves them to www-data, which a root master without
# CAP_DAC_OVERRIDE (Harbor drops it) cannot open. Let the master create them.
rm -f "$rootfs"/var/log/nginx/*.log
chown root:root "$rootfs"/var/log/nginx
# Default configurations that would only confuse: each image brings what it uses.
rm -f "$rootfs"/etc/rsyslog.conf "$rootfs"/etc/rsyslog.d/*

# Trim: package caches and lists, documentation, manuals, translations, locale sources.
rm -rf "$rootfs"/var/cache/apt/* "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/debconf/*-old \
  "$rootfs"/usr/share/doc/* "$rootfs"/usr/share/man/* "$rootfs"/usr/share/info/* \
  "$rootfs"/usr/share/locale/* "$rootfs"/usr/share/i18n/* "$rootfs"/usr/share/lintian \
  "$rootfs"/var/log/*.log "$rootfs"/var/log/apt/* "$rootfs"/debootstrap \
  "$rootfs"/usr/lib/valgrind
# The container runtime provides these.
rm -f "$rootfs"/etc/hostname "$rootfs"/etc/resolv.conf
