#!/usr/bin/env bash
# nginx.sh install|start|stop|reload|status|env — a private nginx as the WebSocket L7 load balancer
# in front of N bridge replicas (issue 18; docs/deploy.md "Load balancer").
#
# Like dovecot.sh and redis.sh beside it: everything (config, pid file, logs,
# temp directories) lives in one state directory,
# ${IMAPBRIDGE_NGINX_DIR:-/tmp/imapbridge-nginx}; the listen port is picked
# free at the first start and kept by reload; the system's nginx (if any) is
# never touched (nginx runs with "-p $DIR -c $DIR/nginx.conf -e $DIR/error.log",
# and the package is installed with a policy-rc.d that keeps its service from
# starting).
#
# The backends are the bridge replicas' host:port addresses, given as
# arguments to start/reload or, without arguments, in IMAPBRIDGE_NGINX_BACKENDS
# (space-separated). Balancing is plain round robin with no affinity: a
# session is one WebSocket, and a client that loses it reconnects and
# resyncs on whichever replica it reaches next (docs/protocol.md §6). A
# replica that is down (connection refused) or draining (503 on the upgrade)
# is skipped for the same request (proxy_next_upstream). Passive health
# marking is off (max_fails=0): nginx clears a server's failure count only
# when a request that reached it ends, and a WebSocket lasts for hours, so
# with max_fails=1 a replica that was down once got one trial connection
# per fail_timeout until that WebSocket closed, and a second restart left no
# usable server at all (502 for every handshake). Trying a refused port
# again costs one local connect.
#
#   install install nginx if missing (ci/test.sh, before the tests start their own)
#   start   install if needed, write config, start (or reload when running), wait until it listens
#   stop    stop this instance and wait for its processes to exit (idempotent)
#   reload  rewrite the config (new backends) and reload it gracefully: live WebSockets stay open
#   status  exit 0 when this instance is running and listening
#   env     print shell-sourceable "export IMAPBRIDGE_NGINX_*=..." lines
set -euo pipefail

DIR="${IMAPBRIDGE_NGINX_DIR:-/tmp/imapbridge-nginx}"
CONF="$DIR/nginx.conf"
ENVFILE="$DIR/env"
PIDFILE="$DIR/nginx.pid"
START_TIMEOUT=20 # seconds to wait for the listener
STOP_TIMEOUT=10  # seconds to wait for the processes to exit
# proxy_read_timeout/proxy_send_timeout: longer than the bridge's ping
# interval (25 s, limits.pingInterval) with room, so a live but quiet
# WebSocket is never cut by the balancer; a dead peer is found by the
# bridge's own ping first.
PROXY_TIMEOUT=60s
WORKER_CONNECTIONS=8192   # per worker: each WebSocket holds two (client and backend)
MAX_BODY=26m              # uploads: limits.maxUploadBytes (25 MiB) plus headers

log() { echo "nginx.sh: $*" >&2; }
die() {
	log "$*"
	exit 1
}

install_nginx() {
	command -v nginx >/dev/null 2>&1 && return
	[[ $(id -u) -eq 0 ]] || die "nginx is missing and installing it needs root"
	log "installing nginx"
	local policy=/usr/sbin/policy-rc.d made="" rc=0
	if [[ ! -e $policy ]]; then # keep the package from starting a system instance
		printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod 755 "$policy" && made=1
	fi
	export DEBIAN_FRONTEND=noninteractive
	apt-get install -y -qq --no-install-recommends -o DPkg::Lock::Timeout=600 nginx >&2 || {
		apt-get update -qq >&2 &&
			apt-get install -y -qq --no-install-recommends -o DPkg::Lock::Timeout=600 nginx >&2
	} || rc=$?
	[[ -n $made ]] && rm -f "$policy"
	[[ $rc -eq 0 ]] || die "apt-get install nginx failed"
	# The package's own service may have been started anyway (no policy-rc.d
	# honoured, or a pre-existing policy that allows it): leave it to the
	# system, it listens on port 80 and never on ours.
	return 0
}

port_free() {
	! { exec 3<>"/dev/tcp/127.0.0.1/$1"; } 2>/dev/null || {
		exec 3<&- 3>&-
		return 1
	}
}

pick_port() {
	local p i
	for i in $(seq 1 50); do
		p=$((20000 + RANDOM % 40000))
		if port_free "$p"; then
			echo "$p"
			return
		fi
	done
	die "no free port found"
}

pid() {
	local p
	[[ -r $PIDFILE ]] || return 1
	p=$(<"$PIDFILE")
	[[ $p =~ ^[0-9]+$ ]] && kill -0 "$p" 2>/dev/null || return 1
	[[ $(awk '{print $3}' "/proc/$p/stat" 2>/dev/null) != Z ]] || return 1
	echo "$p"
}

conf_port() { sed -n 's/^ *listen 127\.0\.0\.1:\([0-9]*\);$/\1/p' "$CONF" 2>/dev/null | head -1; }

listens() { ! port_free "$1"; }

# backends ARGS...: the backend list from the arguments, else the environment.
backends() {
	local b=("$@")
	if [[ ${#b[@]} -eq 0 ]]; then
		read -r -a b <<<"${IMAPBRIDGE_NGINX_BACKENDS:-}"
	fi
	[[ ${#b[@]} -gt 0 ]] || die "no backends: give host:port arguments or set IMAPBRIDGE_NGINX_BACKENDS"
	local x HOSTPORT='^[A-Za-z0-9._-]+:[0-9]+$|^\[[0-9A-Fa-f:]+\]:[0-9]+$'
	for x in "${b[@]}"; do
		[[ $x =~ $HOSTPORT ]] || die "backend $x is not host:port"
	done
	echo "${b[@]}"
}

write_conf() {
	local port=$1 list=$2 b servers="" user=""
	for b in $list; do
		servers+="        server $b max_fails=0;"$'\n'
	done
	# As root the workers run as an unprivileged user (nginx chowns the temp
	# directories to it).
	if [[ $(id -u) -eq 0 ]]; then
		if id -u www-data >/dev/null 2>&1; then user="user www-data;"; else user="user nobody nogroup;"; fi
	fi
	mkdir -p "$DIR/tmp"
	cat >"$CONF.new" <<CONF
# Written by e2e/servers/nginx.sh: a private load balancer for one test run; not the system config.
$user
worker_processes 1;
daemon on;
pid $PIDFILE;
error_log $DIR/error.log warn;
worker_rlimit_nofile $((WORKER_CONNECTIONS * 2 + 64));
events {
    worker_connections $WORKER_CONNECTIONS;
}
http {
    access_log $DIR/access.log;
    client_body_temp_path $DIR/tmp/body;
    proxy_temp_path $DIR/tmp/proxy;
    fastcgi_temp_path $DIR/tmp/fastcgi;
    uwsgi_temp_path $DIR/tmp/uwsgi;
    scgi_temp_path $DIR/tmp/scgi;

    # Connection: upgrade for WebSocket handshakes, close otherwise.
    map \$http_upgrade \$connection_upgrade {
        default upgrade;
        ''      close;
    }
    # Round robin, no affinity (see the header of e2e/servers/nginx.sh).
    upstream bridges {
$servers    }
    server {
        listen 127.0.0.1:$port;
        server_name localhost;
        client_max_body_size $MAX_BODY;
        location / {
            proxy_pass http://bridges;
            proxy_http_version 1.1;
            proxy_set_header Upgrade \$http_upgrade;
            proxy_set_header Connection \$connection_upgrade;
            proxy_set_header Host \$host;
            proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto \$scheme;
            proxy_read_timeout $PROXY_TIMEOUT;
            proxy_send_timeout $PROXY_TIMEOUT;
            proxy_connect_timeout 2s;
            # Transfers stream (no buffering of downloads or uploads).
            proxy_buffering off;
            proxy_request_buffering off;
            # A replica down or draining: try the next one for this request.
            proxy_next_upstream error timeout http_502 http_503;
            proxy_next_upstream_tries 0;
            # Which replica served the request (the tests map sessions to replicas).
            add_header X-Imapbridge-Upstream \$upstream_addr always;
        }
    }
}
CONF
	mv "$CONF.new" "$CONF"
	cat >"$ENVFILE" <<ENV
export IMAPBRIDGE_NGINX_DIR=$DIR
export IMAPBRIDGE_NGINX_ADDR=127.0.0.1:$port
export IMAPBRIDGE_NGINX_BACKENDS="$list"
ENV
}

nginx_cmd() { nginx -p "$DIR" -c "$CONF" -e "$DIR/error.log" "$@" 9>&-; } # the daemon must not hold the lock

wait_listen() {
	local port=$1 i
	for ((i = 0; i < START_TIMEOUT * 10; i++)); do
		if pid >/dev/null && listens "$port"; then
			return 0
		fi
		sleep 0.1
	done
	return 1
}

do_stop() {
	local p i all c
	p=$(pid) || {
		rm -f "$PIDFILE"
		return 0
	}
	all="$p $(pgrep -P "$p" | tr '\n' ' ' || true)"
	kill -QUIT "$p" 2>/dev/null || true # graceful: workers finish, WebSockets are closed
	for ((i = 0; i < STOP_TIMEOUT * 10; i++)); do
		alive=""
		for c in $all; do
			kill -0 "$c" 2>/dev/null && alive+=" $c"
		done
		[[ -z $alive ]] && break
		# A worker holding a WebSocket waits for it: after a second, end it.
		[[ $i -eq 10 ]] && kill -TERM $all 2>/dev/null
		sleep 0.1
	done
	for c in $all; do
		kill -KILL "$c" 2>/dev/null || true
	done
	rm -f "$PIDFILE"
}

do_start() {
	local list port attempt
	list=$(backends "$@")
	install_nginx
	mkdir -p "$DIR"
	if pid >/dev/null && port=$(conf_port) && [[ -n $port ]]; then
		write_conf "$port" "$list"
		nginx_cmd -t -q 2>"$DIR/test.log" || die "config test failed: $(cat "$DIR/test.log")"
		nginx_cmd -s reload
		return
	fi
	do_stop
	for attempt in 1 2 3; do
		port=$(pick_port)
		write_conf "$port" "$list"
		: >"$DIR/error.log"
		if nginx_cmd 2>>"$DIR/error.log" && wait_listen "$port"; then
			log "running: 127.0.0.1:$port -> $list, dir $DIR"
			return
		fi
		log "start attempt $attempt failed; log:"
		cat "$DIR/error.log" >&2 || true
		do_stop
	done
	die "nginx did not start"
}

do_reload() {
	local list port
	port=$(conf_port)
	[[ -n $port ]] || die "nothing to reload in $DIR (run: $0 start)"
	pid >/dev/null || die "not running (run: $0 start)"
	list=$(backends "$@")
	write_conf "$port" "$list"
	nginx_cmd -t -q 2>"$DIR/test.log" || die "config test failed: $(cat "$DIR/test.log")"
	nginx_cmd -s reload
	log "reloaded: 127.0.0.1:$port -> $list"
}

lock() {
	mkdir -p "$(dirname "$DIR")"
	exec 9>"$DIR.lock"
	flock -w $((START_TIMEOUT * 3)) 9 || die "timed out waiting for $DIR.lock"
}

cmd=${1:-}
[[ $# -gt 0 ]] && shift
case "$cmd" in
install) install_nginx ;;
start)
	lock
	do_start "$@"
	;;
stop)
	lock
	do_stop
	;;
reload)
	lock
	do_reload "$@"
	;;
status)
	pid >/dev/null && port=$(conf_port) && [[ -n $port ]] && listens "$port"
	;;
env)
	pid >/dev/null && [[ -s $ENVFILE ]] || die "not running (run: $0 start)"
	cat "$ENVFILE"
	;;
*)
	echo "usage: $0 install|start|stop|reload|status|env [host:port...]" >&2
	exit 2
	;;
esac
