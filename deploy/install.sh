#!/usr/bin/env bash
# Installs feedspool as a systemd service: release build (Swift runtime linked
# statically), binary to /usr/local/bin, config to /etc/feedspool/config.json
# unless one exists, units, sysusers and tmpfiles, then daemon-reload.
# Run as root from the repository. Then: edit the config, `systemctl enable --now feedspool`.
set -euo pipefail
cd "$(dirname "$0")/.."
Scripts/setup
swift build -c release --static-swift-stdlib --product feedspool
install -m 0755 .build/release/feedspool /usr/local/bin/feedspool
install -d -m 0755 /etc/feedspool
[ -e /etc/feedspool/config.json ] || install -m 0640 deploy/config.production.json /etc/feedspool/config.json
install -m 0644 systemd/feedspool.service "systemd/feedspool-fetch@.service" /etc/systemd/system/
install -D -m 0644 systemd/feedspool.sysusers /usr/lib/sysusers.d/feedspool.conf
install -D -m 0644 systemd/feedspool.tmpfiles /usr/lib/tmpfiles.d/feedspool.conf
systemd-sysusers /usr/lib/sysusers.d/feedspool.conf
chgrp feedspool /etc/feedspool/config.json
systemd-tmpfiles --create /usr/lib/tmpfiles.d/feedspool.conf
systemctl daemon-reload
/usr/local/bin/feedspool config check --config /etc/feedspool/config.json
echo "installed; edit /etc/feedspool/config.json, then: systemctl enable --now feedspool"
