#!/usr/bin/env bash
# Removes what install.sh installed. The config, the state (/var/lib/feedspool)
# and the spool (/var/spool/feedspool) stay unless --purge is given.
set -euo pipefail
purge=${1:-}
systemctl disable --now feedspool.service 2>/dev/null || true
rm -f /usr/local/bin/feedspool /etc/systemd/system/feedspool.service "/etc/systemd/system/feedspool-fetch@.service" \
  /usr/lib/sysusers.d/feedspool.conf /usr/lib/tmpfiles.d/feedspool.conf
systemctl daemon-reload 2>/dev/null || true
if [ "$purge" = "--purge" ]; then
  rm -rf /etc/feedspool /var/lib/feedspool /var/spool/feedspool
  userdel feedspool 2>/dev/null || true
fi
echo "feedspool removed${purge:+ (purged)}"
