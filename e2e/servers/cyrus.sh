#!/usr/bin/env bash
# cyrus.sh start|stop|status|env — a private Cyrus IMAP 3.6 for the live test suite.
#
# The same interface as dovecot.sh beside it. Everything (imapd.conf,
# cyrus.conf, certificates, the SASL user database, mail spool, sockets)
# lives in one state directory, ${IMAPBRIDGE_CYRUS_DIR:-/tmp/imapbridge-cyrus};
# Cyrus' master runs with "-C $DIR/imapd.conf -M $DIR/cyrus.conf", never the
# system configuration. Ports are picked free at each start. Runs as root.
#
# Installation: cyrus-common and sasl2-bin with apt-get; cyrus-imapd itself
# (imapd, idled) is unpacked, not installed, because it conflicts with
# dovecot-imapd (see common.sh). No system Cyrus is started.
#
# Cyrus is configured as Debian ships it for the namespace: altnamespace no and
# unixhierarchysep no, so the separator is "." and personal folders live below
# "INBOX." — a deliberate difference from the Dovecot fixture ("/", top level).
#
#   start   install if needed, write config, start, wait for the greeting (idempotent)
#   stop    stop this instance and wait for its processes to exit (idempotent)
#   status  exit 0 when this instance answers, 1 otherwise
#   env     print shell-sourceable "export IMAPBRIDGE_CYRUS_*=..." lines
set -euo pipefail

NAME=cyrus
DIR="${IMAPBRIDGE_CYRUS_DIR:-/tmp/imapbridge-cyrus}"
# shellcheck source=e2e/servers/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

CONF="$DIR/imapd.conf"
MCONF="$DIR/cyrus.conf"
PIDFILE="$DIR/run/master.pid"
LOG="$DIR/cyrus.log"
ENVFILE="$DIR/env"
SASLDB="$DIR/sasldb2"
ADMIN="cyrusadmin:cyrusadmin-pw-0"
REALM=localhost
CYRUS_LIB=/usr/lib/cyrus/bin
QUOTA_KB=102400

install_cyrus() {
	if [[ ! -x $CYRUS_LIB/master || ! -x $CYRUS_LIB/ctl_cyrusdb ]] || ! command -v saslpasswd2 >/dev/null ||
		! command -v openssl >/dev/null; then
		apt_install cyrus-common sasl2-bin openssl
	fi
	PKG=$(unpack_deb cyrus-imapd)
	IMAPD="$PKG/usr/lib/cyrus/bin/imapd"
	IDLED="$PKG/usr/lib/cyrus/bin/idled"
	[[ -x $IMAPD ]] || die "no imapd in $PKG"
}

# add_user NAME PASSWORD: a SASL user in the private database (the INBOX
# is created by Cyrus at the first login: autocreate_quota).
add_user() {
	echo "$2" | saslpasswd2 -p -c -f "$SASLDB" -u "$REALM" "$1"
	chown cyrus:mail "$SASLDB"
	chmod 640 "$SASLDB"
}

write_conf() {
	local plain=$1 tls=$2
	cat >"$CONF" <<EOF
# Private test instance written by e2e/servers/cyrus.sh; not the system config.
configdirectory: $DIR/lib
proc_path: $DIR/run/proc
mboxname_lockpath: $DIR/run/lock
defaultpartition: default
partition-default: $DIR/spool
sievedir: $DIR/sieve
servername: $REALM
altnamespace: no
unixhierarchysep: no
hashimapspool: false
allowplaintext: yes
allowanonymouslogin: no
admins: ${ADMIN%%:*}
proxyservers: ${ADMIN%%:*}
sasl_pwcheck_method: auxprop
sasl_auxprop_plugin: sasldb
sasl_sasldb_path: $SASLDB
sasl_mech_list: PLAIN LOGIN
sasl_auto_transition: no
autocreate_quota: $QUOTA_KB
autocreate_inbox_folders: Drafts|Sent|Trash|Junk
autocreate_subscribe_folders: Drafts|Sent|Trash|Junk
xlist-drafts: Drafts
xlist-sent: Sent
xlist-trash: Trash
xlist-junk: Junk
specialusealways: yes
tls_server_cert: $DIR/server.pem
tls_server_key: $DIR/server.key
tls_client_ca_file: $DIR/ca.pem
tls_versions: tls1_2 tls1_3
idlesocket: $DIR/run/socket/idle
notifysocket: $DIR/run/socket/notify
lmtpsocket: $DIR/run/socket/lmtp
imapidlepoll: 1
umask: 077
syslog_prefix: imapbridge-cyrus
conversations: no
EOF
	cat >"$MCONF" <<EOF
# Private test instance written by e2e/servers/cyrus.sh.
START {
	recover cmd="$CYRUS_LIB/ctl_cyrusdb -C $CONF -r"
}
SERVICES {
	imap  cmd="$IMAPD -C $CONF" listen="127.0.0.1:$plain" prefork=0 maxchild=200
	imaps cmd="$IMAPD -s -C $CONF" listen="127.0.0.1:$tls" prefork=0 maxchild=200
}
EVENTS {
	checkpoint cmd="$CYRUS_LIB/ctl_cyrusdb -C $CONF -c" period=30
}
DAEMON {
	idled cmd="$IDLED -C $CONF"
}
EOF
	chmod 644 "$CONF" "$MCONF"
}

write_env() {
	local plain=$1 tls=$2
	cat >"$ENVFILE" <<EOF
export IMAPBRIDGE_CYRUS_DIR=$DIR
export IMAPBRIDGE_CYRUS_PLAIN=127.0.0.1:$plain
export IMAPBRIDGE_CYRUS_TLS=127.0.0.1:$tls
export IMAPBRIDGE_CYRUS_CA=$DIR/ca.pem
export IMAPBRIDGE_CYRUS_CONF=$CONF
export IMAPBRIDGE_CYRUS_USERS="$USERS"
export IMAPBRIDGE_CYRUS_MASTER=$ADMIN
export IMAPBRIDGE_CYRUS_SASLDB=$SASLDB
export IMAPBRIDGE_CYRUS_REALM=$REALM
EOF
}

env_port() {
	sed -n "s/^export IMAPBRIDGE_CYRUS_$1=127\.0\.0\.1:\([0-9]*\)$/\1/p" "$ENVFILE" 2>/dev/null
}

running() {
	local port
	pid_alive "$PIDFILE" >/dev/null || return 1
	port=$(env_port PLAIN)
	[[ -n $port ]] && greets "$port"
}

do_start() {
	local plain tls attempt i u
	running && return
	do_stop
	install_cyrus
	id -u cyrus >/dev/null 2>&1 || die "user cyrus is missing (cyrus-common creates it)"
	mkdir -p "$DIR"
	chmod 755 "$DIR"
	rm -rf "$DIR/lib" "$DIR/spool" "$DIR/sieve" "$DIR/run" "$SASLDB"
	mkdir -p "$DIR/lib" "$DIR/spool" "$DIR/sieve" "$DIR/run/socket" "$DIR/run/proc" "$DIR/run/lock"
	make_certs
	chown cyrus:mail "$DIR/lib" "$DIR/spool" "$DIR/sieve" "$DIR/run" "$DIR/run/socket" "$DIR/run/proc" "$DIR/run/lock"
	chgrp mail "$DIR/server.key"
	chmod 640 "$DIR/server.key"
	for u in $USERS $ADMIN; do
		add_user "${u%%:*}" "${u#*:}"
	done
	for attempt in 1 2 3; do
		plain=$(pick_port)
		tls=$(pick_port "$plain")
		write_conf "$plain" "$tls"
		: >"$LOG"
		# -D: stay in the foreground (we background it; setsid makes it
		# the leader of a process group of its own).
		setsid "$CYRUS_LIB/master" -D -C "$CONF" -M "$MCONF" -p "$PIDFILE" </dev/null >>"$LOG" 2>&1 9>&- &
		for ((i = 0; i < START_TIMEOUT * 5; i++)); do
			if greets "$plain"; then
				write_env "$plain" "$tls"
				log "running: plain 127.0.0.1:$plain, TLS 127.0.0.1:$tls, dir $DIR"
				return
			fi
			sleep 0.2
		done
		log "start attempt $attempt failed; log:"
		cat "$LOG" >&2 || true
		do_stop
	done
	die "Cyrus did not answer on the plain port"
}

do_stop() {
	local pid
	pid=$(pid_alive "$PIDFILE") || {
		rm -f "$ENVFILE"
		return 0
	}
	kill_tree "$pid"
	rm -f "$ENVFILE" "$PIDFILE"
}

case "${1:-}" in
start)
	lock
	do_start
	;;
stop)
	lock
	do_stop
	;;
status)
	if running; then
		echo "running ($(tr '\n' ' ' <"$ENVFILE"))"
	else
		echo "stopped"
		exit 1
	fi
	;;
env)
	running || die "not running (run: $0 start)"
	cat "$ENVFILE"
	;;
adduser)
	# adduser NAME PASSWORD: one more user (the Go side's NewUser).
	[[ $# -eq 3 ]] || die "usage: $0 adduser NAME PASSWORD"
	add_user "$2" "$3"
	;;
*)
	echo "usage: $0 start|stop|status|env|adduser" >&2
	exit 2
	;;
esac
