#!/usr/bin/env bash
# postfix.sh start|stop|status|env — a private Postfix submission server for
# the live tests, delivering into the private Dovecot (e2e/servers/dovecot.sh).
#
# It never touches /etc/postfix's instance: config, queue, data and log live in
# one state directory, ${IMAPBRIDGE_POSTFIX_DIR:-/tmp/imapbridge-postfix}, and
# Postfix runs as "postfix -c $DIR". It listens on two free loopback ports:
#   submission   RFC 6409, STARTTLS required before AUTH (like port 587)
#   submissions  RFC 8314 implicit TLS (like port 465)
# both with the Dovecot fixture's test certificate (signed by its test CA), SASL
# through Dovecot's auth socket (the same users and passwords as IMAP), a
# recipient check at RCPT time through Dovecot's quota-status socket (an unknown
# user gets "550 5.1.1"), and delivery by LMTP into Dovecot. Mail for
# $DOMAIN goes to the Dovecot user of the same local part; anything else is
# refused at RCPT time: the fixture relays nowhere.
#
# Dovecot is started first (dovecot.sh start, idempotent) with the same
# IMAPBRIDGE_DOVECOT_DIR. Runs as root (as CI does); on a fresh Debian machine
# it installs postfix (debconf "No configuration", so no system instance) and
# dovecot-lmtpd with apt-get when missing.
#
#   start   install if needed, write config, start, wait for the greeting (idempotent)
#   stop    stop this instance only and wait for its processes to exit (idempotent)
#   status  exit 0 when this instance answers, 1 otherwise
#   env     print shell-sourceable "export IMAPBRIDGE_POSTFIX_*=..." lines
set -euo pipefail

HERE="$(cd "$(dirname "$0")" && pwd)"
DIR="${IMAPBRIDGE_POSTFIX_DIR:-/tmp/imapbridge-postfix}"
LOG="$DIR/postfix.log"
ENVFILE="$DIR/env"
DOMAIN=example.test
MESSAGE_SIZE_LIMIT=36700160 # 35 MiB, announced as SIZE
START_TIMEOUT=20            # seconds to wait for the greeting
STOP_TIMEOUT=10             # seconds to wait for processes to exit

log() { echo "postfix.sh: $*" >&2; }
die() {
	log "$*"
	exit 1
}

install_postfix() {
	if command -v postfix >/dev/null 2>&1 && [[ -x /usr/lib/dovecot/lmtp ]]; then
		return
	fi
	[[ $(id -u) -eq 0 ]] || die "postfix is missing and installing it needs root"
	log "installing postfix and dovecot-lmtpd"
	export DEBIAN_FRONTEND=noninteractive
	echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
	apt-get update -qq >&2
	apt-get install -y -qq -o DPkg::Lock::Timeout=600 postfix dovecot-lmtpd >&2
}

master_pid() {
	local pid
	[[ -r $DIR/queue/pid/master.pid ]] || return 1
	pid=$(tr -d ' \n' <"$DIR/queue/pid/master.pid")
	[[ $pid =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null || return 1
	echo "$pid"
}

# greets PORT: succeeds when 127.0.0.1:PORT sends an SMTP "220 " greeting.
greets() {
	local line=""
	{
		exec 3<>"/dev/tcp/127.0.0.1/$1" &&
			IFS= read -r -t 2 line <&3
		exec 3<&- 3>&-
	} 2>/dev/null || true
	[[ $line == "220 "* ]]
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
		if port_free "$p" && [[ $p != "${1:-}" ]]; then
			echo "$p"
			return
		fi
	done
	die "no free port found"
}

write_conf() {
	local sub=$1 subs=$2 ddir=$3 run
	run="$ddir/run"
	cat >"$DIR/main.cf" <<EOF
# Private test instance written by e2e/servers/postfix.sh; not the system config.
compatibility_level = 3.6
queue_directory = $DIR/queue
data_directory = $DIR/data
mail_owner = postfix
setgid_group = postdrop
syslog_name = postfix-imapbridge
maillog_file = $LOG
maillog_file_prefixes = $DIR
myhostname = mail.$DOMAIN
mydomain = $DOMAIN
myorigin = \$mydomain
mydestination =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.1/32
smtpd_banner = \$myhostname ESMTP imapbridge test
biff = no
append_dot_mydomain = no
in_flow_delay = 0
smtpd_error_sleep_time = 0
smtputf8_enable = yes
message_size_limit = $MESSAGE_SIZE_LIMIT
mailbox_size_limit = 0
virtual_mailbox_limit = 0
alias_maps =
alias_database =
local_recipient_maps =
local_transport = error:5.1.1 local delivery is disabled in the test fixture
default_transport = error:5.7.1 the test fixture relays nowhere
relay_transport = error:5.7.1 the test fixture relays nowhere
virtual_mailbox_domains = $DOMAIN
virtual_mailbox_maps =
virtual_transport = lmtp:unix:$run/lmtp
smtpd_reject_unlisted_recipient = no

smtpd_tls_cert_file = $ddir/server.pem
smtpd_tls_key_file = $ddir/server.key
smtpd_tls_security_level = encrypt
smtpd_tls_auth_only = yes
smtpd_tls_mandatory_protocols = >=TLSv1.2
smtpd_tls_loglevel = 0
smtpd_sasl_type = dovecot
smtpd_sasl_path = $run/auth-postfix
smtpd_sasl_auth_enable = yes
smtpd_sasl_authenticated_header = no
broken_sasl_auth_clients = no
smtpd_client_restrictions = permit_sasl_authenticated, reject
smtpd_relay_restrictions = permit_sasl_authenticated, reject
# Only $DOMAIN, only known users: other domains get "554 5.7.1 Relay access
# denied" even after AUTH, unknown users "550 5.1.1" from Dovecot.
smtpd_recipient_restrictions = reject_unauth_destination, check_policy_service unix:$run/quota-status
EOF
	cat >"$DIR/master.cf" <<EOF
# service type  private unpriv  chroot  wakeup  maxproc command + args
127.0.0.1:$sub inet n - n - - smtpd
  -o syslog_name=postfix-imapbridge/submission
127.0.0.1:$subs inet n - n - - smtpd
  -o syslog_name=postfix-imapbridge/submissions
  -o smtpd_tls_wrappermode=yes
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
proxywrite unix -       -       n       -       1       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
lmtp      unix  -       -       n       -       -       lmtp
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
EOF
	chmod 644 "$DIR/main.cf" "$DIR/master.cf"
}

write_env() {
	local sub=$1 subs=$2 ddir=$3
	cat >"$ENVFILE" <<EOF
export IMAPBRIDGE_POSTFIX_DIR=$DIR
export IMAPBRIDGE_POSTFIX_SUBMISSION=127.0.0.1:$sub
export IMAPBRIDGE_POSTFIX_SUBMISSIONS=127.0.0.1:$subs
export IMAPBRIDGE_POSTFIX_CA=$ddir/ca.pem
export IMAPBRIDGE_POSTFIX_DOMAIN=$DOMAIN
export IMAPBRIDGE_POSTFIX_SIZE=$MESSAGE_SIZE_LIMIT
export IMAPBRIDGE_POSTFIX_LOG=$LOG
EOF
}

env_port() {
	sed -n "s/^export IMAPBRIDGE_POSTFIX_$1=127\.0\.0\.1:\([0-9]*\)$/\1/p" "$ENVFILE" 2>/dev/null
}

running() {
	local port
	master_pid >/dev/null || return 1
	port=$(env_port SUBMISSION)
	[[ -n $port ]] && greets "$port"
}

do_start() {
	local sub subs attempt i ddir
	if running; then
		return
	fi
	do_stop
	install_postfix
	[[ $(id -u) -eq 0 ]] || die "starting Postfix needs root"
	bash "$HERE/dovecot.sh" start >&2
	ddir=$(bash "$HERE/dovecot.sh" env | sed -n 's/^export IMAPBRIDGE_DOVECOT_DIR=//p')
	[[ -S $ddir/run/lmtp && -S $ddir/run/auth-postfix ]] ||
		die "Dovecot in $ddir has no lmtp/auth-postfix socket (restart it with the current dovecot.sh)"
	mkdir -p "$DIR"
	chmod 755 "$DIR"
	rm -rf "$DIR/queue" "$DIR/data"
	mkdir -p "$DIR/queue" "$DIR/data"
	chown postfix: "$DIR/data" # the master's lock and the TLS session cache
	for attempt in 1 2 3; do
		sub=$(pick_port)
		subs=$(pick_port "$sub")
		write_conf "$sub" "$subs" "$ddir"
		: >"$LOG"
		if postfix -c "$DIR" start >>"$LOG" 2>&1 9>&-; then
			for ((i = 0; i < START_TIMEOUT * 5; i++)); do
				if greets "$sub"; then
					write_env "$sub" "$subs" "$ddir"
					log "running: submission 127.0.0.1:$sub, submissions 127.0.0.1:$subs, dir $DIR"
					return
				fi
				master_pid >/dev/null || break
				sleep 0.2
			done
		fi
		log "start attempt $attempt failed; log:"
		cat "$LOG" >&2 || true
		do_stop
	done
	die "Postfix did not answer on the submission port"
}

do_stop() {
	local pid children i p alive
	pid=$(master_pid) || {
		rm -f "$ENVFILE"
		return 0
	}
	children=$(pgrep -P "$pid" || true)
	postfix -c "$DIR" abort >/dev/null 2>&1 || kill -TERM "$pid" 2>/dev/null || true
	for ((i = 0; i < STOP_TIMEOUT * 10; i++)); do
		alive=""
		for p in $pid $children; do
			kill -0 "$p" 2>/dev/null && alive+=" $p"
		done
		[[ -z $alive ]] && break
		sleep 0.1
	done
	for p in $pid $children; do
		kill -KILL "$p" 2>/dev/null || true
	done
	rm -f "$ENVFILE"
}

lock() {
	mkdir -p "$(dirname "$DIR")"
	exec 9>"$DIR.lock"
	flock -w $((START_TIMEOUT * 3)) 9 || die "timed out waiting for $DIR.lock"
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
*)
	echo "usage: $0 start|stop|status|env" >&2
	exit 2
	;;
esac
