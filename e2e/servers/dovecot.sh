#!/usr/bin/env bash
# dovecot.sh start|stop|restart|resume|crash|status|env — a private Dovecot for the live test suite.
#
# It never touches /etc/dovecot or the system instance: everything (config,
# certificates, users, mail, sockets, log) lives in one state directory,
# ${IMAPBRIDGE_DOVECOT_DIR:-/tmp/imapbridge-dovecot}, and Dovecot runs with
# "dovecot -c $DIR/dovecot.conf". ci/test.sh and ci/e2e.sh give every run a
# directory of its own (/tmp/imapbridge-run.*/dovecot); the default is only
# for a developer's bare "go test" (internal/dovecottest starts it then).
# Ports are picked free at each start, so instances never share them. Runs as root (as CI does); on a fresh Debian
# machine it installs dovecot-imapd, dovecot-lmtpd and openssl with apt-get
# when missing. Besides IMAP it serves LMTP, SASL auth and a recipient check
# (quota-status) on Unix sockets in $DIR/run for the Postfix fixture
# (e2e/servers/postfix.sh), which delivers into this instance.
#
#   start   install if needed, write config, start, wait for the greeting (idempotent)
#   stop    stop this instance only and wait for its processes to exit (idempotent)
#   restart stop, then resume (the end-to-end "Dovecot restarted" scenario)
#   resume  start a stopped instance again on the SAME ports with its users and
#           mail kept (start, by contrast, picks new ports and empties the mail)
#   crash   kill -9 the instance's master and every child at once, leaving its
#           pid file and sockets behind as a crash does (security.md E5); bring
#           it back with resume
#   status  exit 0 when this instance answers, 1 otherwise
#   env     print shell-sourceable "export IMAPBRIDGE_DOVECOT_*=..." lines
set -euo pipefail

DIR="${IMAPBRIDGE_DOVECOT_DIR:-/tmp/imapbridge-dovecot}"
CONF="$DIR/dovecot.conf"
RUN="$DIR/run"
LOG="$DIR/dovecot.log"
ENVFILE="$DIR/env"
IMAP_BIN=/usr/lib/dovecot/imap
LMTP_BIN=/usr/lib/dovecot/lmtp
MAIL_USER=imapbridge-mail
START_TIMEOUT=20 # seconds to wait for the greeting
STOP_TIMEOUT=10  # seconds to wait for processes to exit
USERS="alice:alice-pw-1 bob:bob-pw-2 carol:carol-pw-3"
MASTER="master:master-pw-0"
QUOTA_STORAGE=100M
# IMAPBRIDGE_DOVECOT_MAX_CONNECTIONS (benchmarks only, e.g. bench/bridge/cmd/fanout):
# IMAP connections one user may hold from one address, the imap process cap (one process
# per connection) and the imap-login cap (a TLS connection keeps its login process as its
# TLS proxy), and the stats service's clients (every imap and imap-login process). Unset:
# Dovecot's 10 per user and address, 1024 imap and 100 imap-login processes, 1000 stats clients.
MAX_CONNECTIONS="${IMAPBRIDGE_DOVECOT_MAX_CONNECTIONS:-}"
# INOTIFY_INSTANCES is the floor set for fs.inotify.max_user_instances: every
# instance on the machine runs as MAIL_USER, and past the kernel's default of
# 128 inotify instances Dovecot disables IDLE notification ("Inotify instance
# limit ... exceeded, disabling") and new mail reaches an IDLE client only at
# the next mailbox_idle_check_interval check (set short below as a fallback).
# One instance per IDLE connection: the load benchmarks (bench/, thousands of
# idle sessions) on the same machine exhausted 8192 while a test run was going
# on, and that run's live-mail tests timed out; 65536 costs nothing until used.
INOTIFY_INSTANCES=65536

log() { echo "dovecot.sh: $*" >&2; }
die() {
	log "$*"
	exit 1
}

install_dovecot() {
	if command -v dovecot >/dev/null 2>&1 && [[ -x $IMAP_BIN && -x $LMTP_BIN ]] && command -v openssl >/dev/null 2>&1; then
		return
	fi
	[[ $(id -u) -eq 0 ]] || die "dovecot is missing and installing it needs root"
	log "installing dovecot-imapd, dovecot-lmtpd and openssl"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq >&2
	apt-get install -y -qq -o DPkg::Lock::Timeout=600 dovecot-imapd dovecot-lmtpd openssl >&2
}

# mail_user creates the unprivileged owner of the test mail if needed.
mail_user() {
	if ! id -u "$MAIL_USER" >/dev/null 2>&1; then
		useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin "$MAIL_USER" ||
			die "cannot create user $MAIL_USER"
	fi
}

master_pid() {
	local pid
	[[ -r $RUN/master.pid ]] || return 1
	pid=$(<"$RUN/master.pid")
	[[ $pid =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null || return 1
	# A killed master not yet reaped by init (a zombie) is not running.
	[[ $(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null) != Z ]] || return 1
	echo "$pid"
}

# greets PORT: succeeds when 127.0.0.1:PORT sends an IMAP "* OK" greeting
# (not the interim "Waiting for authentication process" one).
greets() {
	local line=""
	{
		exec 3<>"/dev/tcp/127.0.0.1/$1" &&
			IFS= read -r -t 2 line <&3
		exec 3<&- 3>&-
	} 2>/dev/null || true
	[[ $line == "* OK"* && $line != *"Waiting for"* ]]
}

# port_free PORT: nothing accepts connections on 127.0.0.1:PORT.
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

make_certs() {
	[[ -s $DIR/ca.pem && -s $DIR/server.pem && -s $DIR/server.key ]] && return
	log "generating a test CA and a server certificate for localhost/127.0.0.1"
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 825 \
		-subj "/CN=imapbridge test CA" -keyout "$DIR/ca.key" -out "$DIR/ca.pem" \
		-addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
		-subj "/CN=localhost" -keyout "$DIR/server.key" -out "$DIR/server.csr" 2>/dev/null
	printf '%s\n' "basicConstraints=CA:FALSE" "keyUsage=critical,digitalSignature" \
		"extendedKeyUsage=serverAuth" "subjectAltName=DNS:localhost,IP:127.0.0.1" >"$DIR/server.ext"
	openssl x509 -req -in "$DIR/server.csr" -CA "$DIR/ca.pem" -CAkey "$DIR/ca.key" -CAcreateserial \
		-days 825 -extfile "$DIR/server.ext" -out "$DIR/server.pem" 2>/dev/null
	chmod 600 "$DIR/ca.key" "$DIR/server.key"
}

# write_users gives each user a passwd-file of its own under passwd.d: Dovecot
# stats a passwd-file at most once a second, so users added to one shared file
# could be missed; a file per user is new to Dovecot when first looked up.
write_users() {
	local u
	rm -rf "$DIR/passwd.d"
	mkdir -p "$DIR/passwd.d"
	chmod 755 "$DIR/passwd.d"
	for u in $USERS; do
		echo "$u" >"$DIR/passwd.d/${u%%:*}"
	done
	echo "$MASTER" >"$DIR/master-users"
	chmod 644 "$DIR/passwd.d/"* "$DIR/master-users"
}

write_conf() {
	local plain=$1 tls=$2 uid gid dh=""
	uid=$(id -u "$MAIL_USER")
	gid=$(id -g "$MAIL_USER")
	[[ -s /usr/share/dovecot/dh.pem ]] && dh="ssl_dh = </usr/share/dovecot/dh.pem"
	cat >"$CONF" <<EOF
# Private test instance written by e2e/servers/dovecot.sh; not the system config.
instance_name = imapbridge-dovecot
base_dir = $RUN
state_dir = $DIR/state
log_path = $LOG
protocols = imap lmtp
listen = 127.0.0.1
postmaster_address = postmaster@example.test
shutdown_clients = yes

ssl = yes
ssl_cert = <$DIR/server.pem
ssl_key = <$DIR/server.key
ssl_ca = <$DIR/ca.pem
ssl_min_protocol = TLSv1.2
$dh

disable_plaintext_auth = no
auth_mechanisms = plain login cram-md5
auth_master_user_separator = *
auth_cache_size = 0
auth_failure_delay = 0
auth_verbose = yes

passdb {
  driver = passwd-file
  args = scheme=PLAIN $DIR/master-users
  master = yes
  pass = yes
}
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%n $DIR/passwd.d/%n
}
userdb {
  driver = static
  args = uid=$uid gid=$gid home=$DIR/mail/%n
}
first_valid_uid = $uid
first_valid_gid = $gid
mail_location = maildir:~/Maildir
mail_attribute_dict = file:%h/dovecot-attributes
mail_plugins = acl quota
# IDLE and NOTIFY learn of changes through inotify, one instance per IMAP
# process; past the kernel's per-uid limit (fs.inotify.max_user_instances,
# 128 by default, shared by every instance on the machine running as this
# mail user) Dovecot falls back to checking every mailbox_idle_check_interval:
# 1 s instead of 30 s keeps live tests live on a busy machine.
mailbox_idle_check_interval = 1 secs

namespace inbox {
  inbox = yes
  separator = /
  mailbox Drafts {
    special_use = \\Drafts
  }
  mailbox Sent {
    special_use = \\Sent
  }
  mailbox Trash {
    special_use = \\Trash
  }
}

protocol imap {
  mail_plugins = \$mail_plugins imap_acl imap_quota
  imap_metadata = yes
$( [[ -n $MAX_CONNECTIONS ]] && echo "  mail_max_userip_connections = $MAX_CONNECTIONS")
}

plugin {
  acl = vfile
  acl_user = %u
  quota = maildir:User quota
  quota_rule = *:storage=$QUOTA_STORAGE
  # quota-status answers Postfix's RCPT check (e2e/servers/postfix.sh):
  # an unknown user is refused at RCPT time, like a real provider does.
  quota_status_success = DUNNO
  quota_status_nouser = 550 5.1.1 User unknown
  quota_status_overquota = 552 5.2.2 Mailbox is full
}

$( [[ -n $MAX_CONNECTIONS ]] && printf 'service stats {\n  client_limit = %d\n}\n' $((2 * MAX_CONNECTIONS + 64)))
service imap-login {
$( [[ -n $MAX_CONNECTIONS ]] && echo "  process_limit = $((MAX_CONNECTIONS + 16))")
  inet_listener imap {
    address = 127.0.0.1
    port = $plain
  }
  inet_listener imaps {
    address = 127.0.0.1
    port = $tls
    ssl = yes
  }
}
# One imap process per connection: room for internal/clustertest's 300
# sessions beside the other live tests.
service imap {
  process_limit = $(( ${MAX_CONNECTIONS:-0} + 16 > 1024 ? ${MAX_CONNECTIONS:-0} + 16 : 1024 ))
}
# For the Postfix fixture: delivery by LMTP, SASL for its submission
# listener, and the recipient check. Unix sockets in base_dir only.
service lmtp {
  unix_listener lmtp {
    mode = 0666
  }
}
service auth {
  unix_listener auth-postfix {
    mode = 0666
  }
}
service quota-status {
  executable = quota-status -p postfix
  unix_listener quota-status {
    mode = 0666
  }
  client_limit = 1
}
# Every test logs in from 127.0.0.1: no growing penalty after failed logins
# (the auth process then logs once that anvil-auth-penalty is refused).
service anvil {
  unix_listener anvil-auth-penalty {
    mode = 0
  }
}

EOF
	chmod 644 "$CONF"
}

write_env() {
	local plain=$1 tls=$2
	cat >"$ENVFILE" <<EOF
export IMAPBRIDGE_DOVECOT_DIR=$DIR
export IMAPBRIDGE_DOVECOT_PLAIN=127.0.0.1:$plain
export IMAPBRIDGE_DOVECOT_TLS=127.0.0.1:$tls
export IMAPBRIDGE_DOVECOT_CA=$DIR/ca.pem
export IMAPBRIDGE_DOVECOT_CONF=$CONF
export IMAPBRIDGE_DOVECOT_USERS="$USERS"
export IMAPBRIDGE_DOVECOT_MASTER=$MASTER
export IMAPBRIDGE_DOVECOT_IMAP_BIN=$IMAP_BIN
EOF
}

env_port() { # env_port NAME: the port of IMAPBRIDGE_DOVECOT_NAME in the env file
	sed -n "s/^export IMAPBRIDGE_DOVECOT_$1=127\.0\.0\.1:\([0-9]*\)$/\1/p" "$ENVFILE" 2>/dev/null
}

running() {
	local port
	master_pid >/dev/null || return 1
	port=$(env_port PLAIN)
	[[ -n $port ]] && greets "$port"
}

do_start() {
	local plain tls attempt i
	if running; then
		return
	fi
	do_stop
	install_dovecot
	[[ $(id -u) -eq 0 ]] || die "starting Dovecot needs root (it switches to the mail user)"
	mail_user
	if (($(cat /proc/sys/fs/inotify/max_user_instances 2>/dev/null || echo "$INOTIFY_INSTANCES") < INOTIFY_INSTANCES)); then
		sysctl -qw fs.inotify.max_user_instances="$INOTIFY_INSTANCES" >/dev/null 2>&1 ||
			echo "dovecot.sh: could not raise fs.inotify.max_user_instances (IDLE may fall back to 30 s polling)" >&2
	fi
	mkdir -p "$DIR" "$RUN" "$DIR/state"
	chmod 755 "$DIR"
	rm -rf "$DIR/mail"
	mkdir -p "$DIR/mail"
	chown "$MAIL_USER:" "$DIR/mail"
	make_certs
	write_users
	for attempt in 1 2 3; do
		plain=$(pick_port)
		tls=$(pick_port "$plain")
		write_conf "$plain" "$tls"
		: >"$LOG"
		chmod 666 "$LOG"
		if dovecot -c "$CONF" >>"$LOG" 2>&1 9>&-; then
			for ((i = 0; i < START_TIMEOUT * 5; i++)); do
				if greets "$plain"; then
					write_env "$plain" "$tls"
					log "running: plain 127.0.0.1:$plain, TLS 127.0.0.1:$tls, dir $DIR"
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
	die "Dovecot did not answer on the plain port"
}

do_stop() {
	local pid children i p alive
	pid=$(master_pid) || {
		# Not running: a pid file left by a crash would make Dovecot
		# refuse to start (it takes an unreaped zombie for a live master).
		rm -f "$ENVFILE" "$RUN/master.pid"
		return 0
	}
	children=$(pgrep -P "$pid" || true)
	kill -TERM "$pid" 2>/dev/null || true
	# The master leaves client imap processes to linger for seconds: end them
	# too (they say "Server shutting down" to their client and exit at once).
	for p in $children; do
		kill -TERM "$p" 2>/dev/null || true
	done
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
	rm -f "$ENVFILE" "$RUN/master.pid"
}

# do_crash sends SIGKILL to the master and all its children together: no
# "Server shutting down" to clients, no cleanup; connections are reset by the
# kernel.
do_crash() {
	local pid children p i alive
	pid=$(master_pid) || return 0
	children=$(pgrep -P "$pid" || true)
	kill -KILL "$pid" $children 2>/dev/null || true
	for ((i = 0; i < STOP_TIMEOUT * 10; i++)); do
		alive=""
		for p in $pid $children; do
			# A zombie (state Z, not yet reaped by init) is dead.
			[[ $(awk '{print $3}' "/proc/$p/stat" 2>/dev/null) =~ ^[^Z]$ ]] && alive+=" $p"
		done
		[[ -z $alive ]] && return 0
		sleep 0.1
	done
	die "processes$alive survived SIGKILL"
}

# conf_ports prints the plain and TLS ports written in $CONF (in that order).
conf_ports() {
	sed -n 's/^    port = \([0-9]*\)$/\1/p' "$CONF" 2>/dev/null | tr '\n' ' '
}

# do_resume starts a stopped instance again with its existing config (so its
# ports), users and mail; an instance never started needs "start". The ports
# may be in TIME_WAIT: Dovecot listens with SO_REUSEADDR, so they rebind.
do_resume() {
	local plain tls i
	running && return
	read -r plain tls <<<"$(conf_ports)"
	[[ -n $plain && -n $tls && -d $DIR/mail ]] || die "nothing to resume in $DIR (run: $0 start)"
	do_stop
	: >"$LOG"
	dovecot -c "$CONF" >>"$LOG" 2>&1 9>&- || die "resume failed; log: $(cat "$LOG")"
	for ((i = 0; i < START_TIMEOUT * 5; i++)); do
		if greets "$plain"; then
			write_env "$plain" "$tls"
			log "resumed: plain 127.0.0.1:$plain, TLS 127.0.0.1:$tls"
			return
		fi
		sleep 0.2
	done
	die "Dovecot did not answer on the plain port after resume; log: $(cat "$LOG")"
}

# Serialise start and stop across concurrent callers (parallel test binaries).
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
restart)
	lock
	do_stop
	do_resume
	;;
resume)
	lock
	do_resume
	;;
crash)
	lock
	do_crash
	;;
status)
	if running; then
		echo "running ($(cat "$ENVFILE" | tr '\n' ' '))"
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
	echo "usage: $0 start|stop|restart|resume|crash|status|env" >&2
	exit 2
	;;
esac
