#!/usr/bin/env bash
# Builds feedspool_VERSION_amd64.deb with dpkg-deb.
#   deploy/build-deb.sh [BINARY] [OUTPUT_DIR]
# Without BINARY it makes a release build (Swift runtime linked statically).
set -euo pipefail
cd "$(dirname "$0")/.."
version=1.0.0
binary=${1:-}
out=${2:-.}
if [ -z "$binary" ]; then
  swift build -c release --static-swift-stdlib --product feedspool
  binary=.build/release/feedspool
fi
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
install -D -m 0755 "$binary" "$stage/usr/bin/feedspool"
install -D -m 0640 deploy/config.production.json "$stage/etc/feedspool/config.json"
install -D -m 0644 systemd/feedspool.service "$stage/lib/systemd/system/feedspool.service"
install -D -m 0644 "systemd/feedspool-fetch@.service" "$stage/lib/systemd/system/feedspool-fetch@.service"
sed -i 's|/usr/local/bin/feedspool|/usr/bin/feedspool|' "$stage/lib/systemd/system/"*.service
install -D -m 0644 systemd/feedspool.sysusers "$stage/usr/lib/sysusers.d/feedspool.conf"
install -D -m 0644 systemd/feedspool.tmpfiles "$stage/usr/lib/tmpfiles.d/feedspool.conf"
install -D -m 0644 README.md "$stage/usr/share/doc/feedspool/README.md"
mkdir -p "$stage/DEBIAN"
cat > "$stage/DEBIAN/control" <<CONTROL
Package: feedspool
Version: $version
Architecture: amd64
Maintainer: feedspool maintainers <maintainers@example.org>
Depends: libcurl4, libxml2, libsqlite3-0, libpq5, systemd
Section: net
Priority: optional
Description: polls RSS and Atom feeds into a Maildir spool of JSON files
 feedspool fetches thousands of feeds, recognizes syndicated copies and
 writes each new story as one JSON file that other programs consume.
CONTROL
echo /etc/feedspool/config.json > "$stage/DEBIAN/conffiles"
cat > "$stage/DEBIAN/postinst" <<'POST'
#!/bin/sh
set -e
systemd-sysusers /usr/lib/sysusers.d/feedspool.conf || true
chgrp feedspool /etc/feedspool/config.json || true
systemd-tmpfiles --create /usr/lib/tmpfiles.d/feedspool.conf || true
systemctl daemon-reload || true
POST
cat > "$stage/DEBIAN/prerm" <<'PRE'
#!/bin/sh
set -e
systemctl stop feedspool.service 2>/dev/null || true
PRE
chmod 0755 "$stage/DEBIAN/postinst" "$stage/DEBIAN/prerm"
mkdir -p "$out"
dpkg-deb --root-owner-group --build "$stage" "$out/feedspool_${version}_amd64.deb" >/dev/null
echo "$out/feedspool_${version}_amd64.deb"
