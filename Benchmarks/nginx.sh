# Shared by the benchmarks: installs nginx-light and GNU time when missing and
# serves a folder on a free loopback port. Source it, then:
#   start_nginx ROOT      sets $port; nginx is stopped when the script exits.
bench_need=()
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || bench_need+=(nginx-light)
[ -x /usr/bin/time ] || bench_need+=(time)
if [ ${#bench_need[@]} -gt 0 ]; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${bench_need[@]}" >/dev/null
fi
systemctl stop nginx 2>/dev/null || true

bench_work=$(mktemp -d /tmp/feedspool-bench.XXXXXX)
chmod 755 "$bench_work"  # nginx's worker runs as another user
nginx_pid=""
bench_cleanup() { [ -n "$nginx_pid" ] && kill "$nginx_pid" 2>/dev/null; sleep 0.2; rm -rf "$bench_work"; }
trap bench_cleanup EXIT

start_nginx() {
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  cat > "$bench_work/nginx.conf" <<CONF
worker_processes 1;
pid $bench_work/nginx.pid;
error_log $bench_work/error.log;
daemon off;
events { worker_connections 4096; }
http {
  access_log off;
  sendfile on;
  keepalive_requests 100000;
  if_modified_since before;
  types { application/rss+xml xml; }
  server { listen 127.0.0.1:$port; root $1; }
}
CONF
  /usr/sbin/nginx -c "$bench_work/nginx.conf" -p "$bench_work" &
  nginx_pid=$!
  for _ in $(seq 50); do (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null && return 0; sleep 0.1; done
  echo "nginx did not start" >&2
  return 1
}
