#!/usr/bin/env bash
# redis.sh install|start|stop|kill|resume|status|env — a private Redis for the cluster tests.
#
# Like dovecot.sh beside it: everything (config, data, pid file, log) lives in
# one state directory, ${IMAPBRIDGE_REDIS_DIR:-/tmp/imapbridge-redis}; the port
# is picked free at each start; the system's Redis (if any) is never touched.
# On a fresh Debian machine it installs redis-server with apt-get when missing
# (without letting the package start a system instance).
#
#   install install redis-server if missing (ci/test.sh, before the tests start their own)
#   start   install if needed, write config, start, wait for PONG (idempotent)
#   stop    stop this instance and wait for it to exit (idempotent)
#   kill    kill -9 this instance (the "Redis died" fault); resume brings it back
#   resume  start a stopped or killed instance again on the SAME port
#   status  exit 0 when this instance answers PING, 1 otherwise
#   env     print shell-sourceable "export IMAPBRIDGE_REDIS_*=..." lines
set -euo pipefail

DIR="${IMAPBRIDGE_REDIS_DIR:-/tmp/imapbridge-redis}"
CONF="$DIR/redis.conf"
ENVFILE="$DIR/env"
START_TIMEOUT=20 # seconds (before common.sh, which keeps a set value)

NAME=redis
# shellcheck source=common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh" # log, die, apt_install, port_free, pick_port, pid_alive

install_redis() {
	command -v redis-server >/dev/null 2>&1 || apt_install redis-server
}

pong() { # pong PORT: the instance on 127.0.0.1:PORT answers PING
	local line=""
	{
		exec 3<>"/dev/tcp/127.0.0.1/$1" &&
			printf 'PING\r\n' >&3 &&
			IFS= read -r -t 2 line <&3
		exec 3<&- 3>&-
	} 2>/dev/null || true
	[[ $line == "+PONG"* ]]
}

pid() { pid_alive "$DIR/redis.pid"; }

conf_port() { sed -n 's/^port \([0-9]*\)$/\1/p' "$CONF" 2>/dev/null; }

write_conf() {
	cat >"$CONF" <<CONF
# Written by e2e/servers/redis.sh; a private instance for one test run.
bind 127.0.0.1
port $1
protected-mode yes
daemonize yes
pidfile $DIR/redis.pid
logfile $DIR/redis.log
dir $DIR
save ""
appendonly no
databases 1
maxclients 10000
CONF
	cat >"$ENVFILE" <<ENV
export IMAPBRIDGE_REDIS_DIR=$DIR
export IMAPBRIDGE_REDIS_ADDR=127.0.0.1:$1
ENV
}

launch() {
	local port=$1 i
	: >"$DIR/redis.log"
	redis-server "$CONF" >&2 || return 1
	for ((i = 0; i < START_TIMEOUT * 5; i++)); do
		if pong "$port"; then
			log "running: 127.0.0.1:$port, dir $DIR"
			return 0
		fi
		sleep 0.2
	done
	return 1
}

do_stop() {
	local p i
	p=$(pid) || return 0
	kill "$p" 2>/dev/null || true
	for ((i = 0; i < 50; i++)); do
		kill -0 "$p" 2>/dev/null || return 0
		sleep 0.2
	done
	kill -9 "$p" 2>/dev/null || true
}

do_start() {
	local port attempt
	if pid >/dev/null && pong "$(conf_port)"; then
		return
	fi
	do_stop
	install_redis
	mkdir -p "$DIR"
	for attempt in 1 2 3; do
		port=$(pick_port)
		write_conf "$port"
		launch "$port" && return
		log "start attempt $attempt failed; log:"
		cat "$DIR/redis.log" >&2 || true
		do_stop
	done
	die "Redis did not answer"
}

case "${1:-}" in
install) install_redis ;;
start) do_start ;;
stop) do_stop ;;
kill)
	if p=$(pid); then kill -9 "$p"; fi
	while pid >/dev/null; do sleep 0.1; done
	;;
resume)
	[[ -s $CONF ]] || die "no instance in $DIR to resume"
	pid >/dev/null || launch "$(conf_port)" || die "Redis did not come back"
	;;
status) pid >/dev/null && pong "$(conf_port)" ;;
env)
	[[ -s $ENVFILE ]] || die "not started (no $ENVFILE)"
	cat "$ENVFILE"
	;;
*)
	echo "usage: $0 install|start|stop|kill|resume|status|env" >&2
	exit 2
	;;
esac
