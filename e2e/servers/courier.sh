#!/usr/bin/env bash
# courier.sh start|stop|status|env|adduser — a private Courier IMAP 5.0 for the live test suite.
#
# The same interface as dovecot.sh beside it. Everything (authdaemonrc, the
# userdb, certificates, Maildirs, the authdaemon socket) lives in one state
# directory, ${IMAPBRIDGE_COURIER_DIR:-/tmp/imapbridge-courier}. Courier's
# authentication library has its configuration (/etc/courier) and its
# authdaemond socket (/run/courier) compiled in, so the instance runs in a
# private mount namespace (unshare -m) where $DIR/etc is bind-mounted on
# /etc/courier and $DIR/authrun on /run/courier: the system's files, and any
# system authdaemond, are never seen or touched. Ports are picked free at each
# start. Runs as root.
#
# Installation: courier-base, courier-authdaemon, courier-authlib-userdb and
# the libraries with apt-get; courier-imap itself (imaplogin, imapd) is
# unpacked, not installed, because it conflicts with dovecot-imapd (see
# common.sh). policy-rc.d keeps the package scripts from starting a system
# authdaemond.
#
# The capabilities are Debian's default IMAP_CAPABILITY (no CONDSTORE, ESEARCH,
# SPECIAL-USE, MOVE, ENABLE ...): the point of this fixture is a server that
# lacks what Dovecot and Cyrus have. The separator is "." below "INBOX.".
#
#   start   install if needed, write config, start, wait for the greeting (idempotent)
#   stop    stop this instance and wait for its processes to exit (idempotent)
#   status  exit 0 when this instance answers, 1 otherwise
#   env     print shell-sourceable "export IMAPBRIDGE_COURIER_*=..." lines
#   adduser NAME PASSWORD   one more user with an empty Maildir (the Go side's NewUser)
set -euo pipefail

NAME=courier
DIR="${IMAPBRIDGE_COURIER_DIR:-/tmp/imapbridge-courier}"
# shellcheck source=e2e/servers/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

PIDFILE="$DIR/run/ns.pid"
LOG="$DIR/courier.log"
ENVFILE="$DIR/env"
MAIL_USER=imapbridge-mail
MAXPERIP=200
IMAP_CAPABILITY="IMAP4rev1 UIDPLUS CHILDREN NAMESPACE THREAD=ORDEREDSUBJECT THREAD=REFERENCES SORT QUOTA IDLE"
AUTHLIB=/usr/lib/courier/courier-authlib

install_courier() {
	if [[ ! -x $AUTHLIB/authdaemond || ! -x /usr/sbin/couriertcpd || ! -x /usr/bin/couriertls ||
		! -e /usr/lib/courier-authlib/libauthuserdb.so ]] || ! command -v makeuserdb >/dev/null ||
		! command -v openssl >/dev/null || ! command -v unshare >/dev/null; then
		apt_install courier-base courier-authlib courier-authdaemon courier-authlib-userdb \
			libcourier-unicode4 libgamin0 gamin libidn12 openssl util-linux
	fi
	PKG=$(unpack_deb courier-imap)
	IMAPLOGIN="$PKG/usr/lib/courier/courier/imaplogin"
	IMAPD="$PKG/usr/bin/imapd"
	[[ -x $IMAPLOGIN && -x $IMAPD ]] || die "no imaplogin/imapd in $PKG"
}

mail_user() {
	if ! id -u "$MAIL_USER" >/dev/null 2>&1; then
		useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin "$MAIL_USER" ||
			die "cannot create user $MAIL_USER"
	fi
}

# add_user NAME PASSWORD: a userdb entry and an empty Maildir with the usual
# folders; makeuserdb rebuilds userdb.dat, which authdaemond reopens when it
# changes.
add_user() {
	local name=$1 pw=$2 home="$DIR/mail/$1" hash uid gid f
	uid=$(id -u "$MAIL_USER")
	gid=$(id -g "$MAIL_USER")
	mkdir -p "$home"
	maildirmake.courier "$home/Maildir" 2>/dev/null || [[ -d $home/Maildir/cur ]]
	for f in Drafts Sent Trash; do
		maildirmake.courier -f "$f" "$home/Maildir" 2>/dev/null || true
	done
	printf 'INBOX.Drafts\nINBOX.Sent\nINBOX.Trash\n' >"$home/Maildir/courierimapsubscribed"
	chown -R "$MAIL_USER:" "$home"
	hash=$(openssl passwd -5 "$pw")
	(
		flock 8
		sed -i "/^$name\t/d" "$DIR/etc/userdb" 2>/dev/null || true
		printf '%s\tuid=%s|gid=%s|home=%s|mail=%s/Maildir|systempw=%s\n' "$name" "$uid" "$gid" "$home" "$home" "$hash" >>"$DIR/etc/userdb"
		chmod 600 "$DIR/etc/userdb"
		makeuserdb -f "$DIR/etc/userdb"
	) 8>"$DIR/userdb.lock"
}

write_conf() {
	mkdir -p "$DIR/etc" "$DIR/authrun/authdaemon" "$DIR/authrun/autthdaemon" "$DIR/authrun/aututhdaemon"
	cat >"$DIR/etc/authdaemonrc" <<EOF
# Private test instance written by e2e/servers/courier.sh.
authmodulelist="authuserdb"
authmodulelistorig="authuserdb"
daemons=5
authdaemonvar=/run/courier/authdaemon
DEBUG_LOGIN=0
DEFAULTOPTIONS=""
LOGGEROPTS=""
EOF
	cat "$DIR/server.key" "$DIR/server.pem" >"$DIR/etc/imapd.pem"
	# imaplogin drops root before STARTTLS: its couriertls must read it (a test key).
	chmod 644 "$DIR/etc/imapd.pem"
}

# The environment of imaplogin and imapd (Debian's /etc/courier/imapd and
# imapd-ssl defaults, with this instance's paths).
imap_env() {
	cat <<EOF
IMAP_CAPABILITY=$IMAP_CAPABILITY
IMAP_CAPABILITY_TLS=$IMAP_CAPABILITY AUTH=PLAIN
IMAP_KEYWORDS=1
IMAP_ACL=1
IMAP_PROXY=0
IMAP_IDLE_TIMEOUT=2
IMAP_ENHANCEDIDLE=0
IMAP_MAILBOX_SANITY_CHECK=1
IMAP_DISABLETHREADSORT=0
IMAP_CHECK_ALL_FOLDERS=0
IMAP_OBSOLETE_CLIENT=0
IMAP_UMASK=022
IMAP_USELOCKS=1
IMAP_TRASHFOLDERNAME=Trash
IMAP_EMPTYTRASH=
IMAP_MOVE_EXPUNGE_TO_TRASH=0
IMAP_TLS_REQUIRED=0
IMAP_STARTTLS=YES
COURIERTLS=/usr/bin/couriertls
TLS_CERTFILE=/etc/courier/imapd.pem
TLS_TRUSTCERTS=/etc/courier/ca.pem
TLS_VERIFYPEER=NONE
MAILDIRPATH=Maildir
HEADERFROM=X-IMAP-Sender
PATH=/usr/bin:/usr/sbin:/bin:/sbin
EOF
}

# run_ns PLAIN TLS: runs inside the private mount namespace (started by do_start).
run_ns() {
	local plain=$1 tls=$2
	mount --make-rprivate / 2>/dev/null || true
	mkdir -p /etc/courier /run/courier
	mount --bind "$DIR/etc" /etc/courier
	mount --bind "$DIR/authrun" /run/courier
	cp "$DIR/ca.pem" /etc/courier/ca.pem
	install_courier # sets IMAPLOGIN, IMAPD (already unpacked: quick)
	local envs=()
	mapfile -t envs < <(imap_env)
	env -i "${envs[@]}" "$AUTHLIB/authdaemond" &
	env -i "${envs[@]}" /usr/sbin/couriertcpd -address=127.0.0.1 -maxprocs=200 -maxperip=$MAXPERIP \
		-nodnslookup -noidentlookup "$plain" "$IMAPLOGIN" "$IMAPD" Maildir &
	env -i "${envs[@]}" /usr/sbin/couriertcpd -address=127.0.0.1 -maxprocs=200 -maxperip=$MAXPERIP \
		-nodnslookup -noidentlookup "$tls" /usr/bin/couriertls -server -tcpd "$IMAPLOGIN" "$IMAPD" Maildir &
	trap 'kill $(jobs -p) 2>/dev/null; wait; exit 0' TERM INT
	wait
}

write_env() {
	local plain=$1 tls=$2
	cat >"$ENVFILE" <<EOF
export IMAPBRIDGE_COURIER_DIR=$DIR
export IMAPBRIDGE_COURIER_PLAIN=127.0.0.1:$plain
export IMAPBRIDGE_COURIER_TLS=127.0.0.1:$tls
export IMAPBRIDGE_COURIER_CA=$DIR/ca.pem
export IMAPBRIDGE_COURIER_USERS="$USERS"
EOF
}

env_port() {
	sed -n "s/^export IMAPBRIDGE_COURIER_$1=127\.0\.0\.1:\([0-9]*\)$/\1/p" "$ENVFILE" 2>/dev/null
}

running() {
	local port
	pid_alive "$PIDFILE" >/dev/null || return 1
	port=$(env_port PLAIN)
	[[ -n $port ]] && greets "$port"
}

do_start() {
	local plain tls attempt i u pid
	running && return
	do_stop
	install_courier
	mail_user
	mkdir -p "$DIR" "$DIR/run"
	chmod 755 "$DIR"
	rm -rf "$DIR/mail" "$DIR/etc" "$DIR/authrun"
	mkdir -p "$DIR/mail"
	chmod 755 "$DIR/mail"
	make_certs
	write_conf
	for u in $USERS; do
		add_user "${u%%:*}" "${u#*:}"
	done
	for attempt in 1 2 3; do
		plain=$(pick_port)
		tls=$(pick_port "$plain")
		: >"$LOG"
		setsid unshare -m bash "${BASH_SOURCE[0]}" _ns "$plain" "$tls" </dev/null >>"$LOG" 2>&1 9>&- &
		pid=$!
		echo "$pid" >"$PIDFILE"
		for ((i = 0; i < START_TIMEOUT * 5; i++)); do
			if greets "$plain" && ! port_free "$tls"; then
				write_env "$plain" "$tls"
				log "running: plain 127.0.0.1:$plain, TLS 127.0.0.1:$tls, dir $DIR"
				return
			fi
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.2
		done
		log "start attempt $attempt failed; log:"
		cat "$LOG" >&2 || true
		do_stop
	done
	die "Courier did not answer on the plain port"
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
	[[ $# -eq 3 ]] || die "usage: $0 adduser NAME PASSWORD"
	add_user "$2" "$3"
	;;
_ns)
	run_ns "$2" "$3"
	;;
*)
	echo "usage: $0 start|stop|status|env|adduser" >&2
	exit 2
	;;
esac
