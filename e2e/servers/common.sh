# common.sh — shared helpers of the IMAP server fixtures (cyrus.sh, courier.sh).
# Sourced, not run. The caller sets NAME (for messages) and DIR (its private
# state directory) before sourcing.
#
# Debian's cyrus-imapd, courier-imap and dovecot-imapd all "Provide" and
# "Conflict with" imap-server, so at most one of them can be installed with
# dpkg at a time; installing Cyrus or Courier with apt-get would REMOVE the
# dovecot-imapd the rest of the suite needs. The fixtures therefore install
# only the conflict-free dependencies with apt-get and unpack the conflicting
# package itself (its binaries only, never its maintainer scripts, so no
# system daemon is started) into a cache directory with "apt-get download"
# and "dpkg-deb -x".

# SERVERS_CACHE holds the unpacked packages, shared by every run (binaries only;
# state never lives there).
SERVERS_CACHE="${IMAPBRIDGE_SERVERS_CACHE:-/var/cache/imapbridge-servers}"
START_TIMEOUT=${START_TIMEOUT:-20} # seconds to wait for the greeting
STOP_TIMEOUT=${STOP_TIMEOUT:-10}   # seconds to wait for processes to exit
USERS="alice:alice-pw-1 bob:bob-pw-2 carol:carol-pw-3"

log() { echo "$NAME.sh: $*" >&2; }
die() {
	log "$*"
	exit 1
}

# apt_install PKG...: install the packages noninteractively, with a
# policy-rc.d that forbids starting any service while they are configured
# (the fixture runs its own private instance; a system one must not start).
apt_install() {
	[[ $(id -u) -eq 0 ]] || die "installing $* needs root"
	log "installing $*"
	local own_policy=""
	if [[ ! -e /usr/sbin/policy-rc.d ]]; then
		printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
		chmod 755 /usr/sbin/policy-rc.d
		own_policy=1
	fi
	export DEBIAN_FRONTEND=noninteractive
	local rc=0
	apt-get install -y -qq --no-install-recommends -o DPkg::Lock::Timeout=600 "$@" >&2 || {
		apt-get update -qq >&2 &&
			apt-get install -y -qq --no-install-recommends -o DPkg::Lock::Timeout=600 "$@" >&2
	} || rc=$?
	[[ -n $own_policy ]] && rm -f /usr/sbin/policy-rc.d
	[[ $rc -eq 0 ]] || die "apt-get install $* failed"
}

# unpack_deb PKG: unpack Debian package PKG (without running its scripts)
# into $SERVERS_CACHE/PKG and print that directory.
unpack_deb() {
	local pkg=$1 dest="$SERVERS_CACHE/$1" tmp deb
	if [[ -f $dest/.unpacked ]]; then
		echo "$dest"
		return
	fi
	[[ $(id -u) -eq 0 ]] || die "unpacking $pkg needs root"
	log "unpacking $pkg into $dest (not installed: it conflicts with dovecot-imapd)"
	mkdir -p "$SERVERS_CACHE"
	tmp=$(mktemp -d "$SERVERS_CACHE/.dl.XXXXXX")
	chmod 777 "$tmp" # apt-get download runs as _apt when it can
	(cd "$tmp" && { apt-get download -qq "$pkg" >&2 2>/dev/null || { apt-get update -qq >&2 && apt-get download -qq "$pkg" >&2; }; }) ||
		die "apt-get download $pkg failed"
	deb=$(ls "$tmp"/*.deb)
	rm -rf "$dest"
	mkdir -p "$dest"
	dpkg-deb -x "$deb" "$dest" || die "dpkg-deb -x $deb failed"
	rm -rf "$tmp"
	touch "$dest/.unpacked"
	echo "$dest"
}

# greets PORT: succeeds when 127.0.0.1:PORT sends an IMAP "* OK" greeting.
greets() {
	local line=""
	{
		exec 3<>"/dev/tcp/127.0.0.1/$1" &&
			IFS= read -r -t 2 line <&3
		exec 3<&- 3>&-
	} 2>/dev/null || true
	[[ $line == "* OK"* ]]
}

# tls_greets PORT: succeeds when 127.0.0.1:PORT greets after a TLS handshake
# that verifies against the test CA.
tls_greets() {
	timeout 5 openssl s_client -quiet -verify_return_error -CAfile "$DIR/ca.pem" \
		-connect "127.0.0.1:$1" -servername localhost </dev/null 2>/dev/null | head -1 | grep -q '^\* OK'
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

# make_certs writes a test CA and a server certificate for localhost and
# 127.0.0.1 into $DIR (kept across starts).
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

# pid_alive FILE: print the pid in FILE when that process is alive.
pid_alive() {
	local pid
	[[ -r $1 ]] || return 1
	pid=$(<"$1")
	[[ $pid =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null || return 1
	echo "$pid"
}

# descendants PID: PID's descendants, deepest last.
descendants() {
	local c
	for c in $(pgrep -P "$1" || true); do
		echo "$c"
		descendants "$c"
	done
}

# kill_tree PID: TERM PID and its descendants, wait up to STOP_TIMEOUT for
# all of them to exit, then KILL what is left.
kill_tree() {
	local all p i alive
	all="$1 $(descendants "$1" | tr '\n' ' ')"
	for p in $all; do
		kill -TERM "$p" 2>/dev/null || true
	done
	for ((i = 0; i < STOP_TIMEOUT * 10; i++)); do
		alive=""
		for p in $all; do
			kill -0 "$p" 2>/dev/null && alive+=" $p"
		done
		[[ -z $alive ]] && return 0
		sleep 0.1
	done
	for p in $all; do
		kill -KILL "$p" 2>/dev/null || true
	done
}

# lock serialises start and stop across concurrent callers.
lock() {
	mkdir -p "$(dirname "$DIR")"
	exec 9>"$DIR.lock"
	flock -w $((START_TIMEOUT * 3)) 9 || die "timed out waiting for $DIR.lock"
}
