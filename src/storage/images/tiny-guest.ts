/**
 * The tiny image's own files, fixed text copied into the image as they are (no
 * values are filled in at build or run time): busybox init's inittab, the start
 * and stop scripts, and overcast-init, the first-boot agent that does what
 * cloud-init does on the Debian image (the key pair's key, user data, the
 * instance store).
 *
 * Written with String.raw and without `${`: what is here is exactly what the
 * guest's busybox sh reads.
 */

/** busybox init: SIGUSR2 powers off, SIGTERM reboots, SIGUSR1 halts (see the manifest). */
export const INITTAB = String.raw`# /etc/inittab: busybox init (Overcast tiny)
::sysinit:/etc/init.d/rcS
::once:/usr/lib/overcast/overcast-init late
::respawn:/usr/sbin/dropbear -F -E -R -p 22 -P /run/dropbear.pid
::ctrlaltdel:/sbin/reboot
::shutdown:/etc/init.d/rcK
`;

/** System start: the kernel file systems the runtime did not mount, then the metadata. */
export const RC_S = String.raw`#!/bin/sh
# /etc/init.d/rcS: system start of the Overcast tiny image (busybox init's sysinit)
PATH=/usr/sbin:/usr/bin:/sbin:/bin
export PATH

mounted() {
	grep -q "^[^ ]* $1 " /proc/mounts 2>/dev/null
}

mounted /proc || mount -t proc -o nosuid,nodev,noexec proc /proc
mounted /sys || mount -t sysfs -o nosuid,nodev,noexec sysfs /sys 2>/dev/null
mkdir -p /dev/pts /dev/shm
mounted /dev/pts || mount -t devpts -o gid=5,mode=620,ptmxmode=666 devpts /dev/pts
[ -e /dev/ptmx ] || ln -s pts/ptmx /dev/ptmx
mounted /dev/shm || mount -t tmpfs -o nosuid,nodev,mode=1777 shm /dev/shm
mounted /run || mount -t tmpfs -o nosuid,nodev,mode=755 tmpfs /run
mkdir -p /run/overcast /var/lib/overcast /var/log
chmod 1777 /tmp

echo "overcast: $(uname -sr), hostname $(hostname)"
/usr/lib/overcast/overcast-init early
exit 0
`;

/** System stop (busybox init's shutdown action; init then signals every process). */
export const RC_K = String.raw`#!/bin/sh
# /etc/init.d/rcK: system stop of the Overcast tiny image (busybox init's shutdown)
PATH=/usr/sbin:/usr/bin:/sbin:/bin
export PATH
echo "overcast: stopping"
[ -f /run/dropbear.pid ] && kill "$(cat /run/dropbear.pid)" 2>/dev/null
grep -q "^[^ ]* /mnt " /proc/mounts 2>/dev/null && umount /mnt
sync
exit 0
`;

/**
 * overcast-init: the instance metadata service (IMDSv2: a token PUT over busybox nc,
 * which speaks HTTP/1.0 here; busybox wget cannot PUT but sends the token header),
 * at every boot the key pair's public key and the instance store, at the first boot
 * the user data (a `#!` script), then `overcast-init: ready` on the console.
 * OVERCAST_IMDS_HOST and OVERCAST_IMDS_PORT point it elsewhere (tests).
 */
export const OVERCAST_INIT = String.raw`#!/bin/sh
# overcast-init: the Overcast tiny image's first-boot agent (busybox sh)
#   overcast-init early   from /etc/init.d/rcS, every boot: the key pair's key, the instance store
#   overcast-init late    once init runs, every boot: the user data (first boot only), then "ready"
PATH=/usr/sbin:/usr/bin:/sbin:/bin
export PATH
IMDS_HOST=$OVERCAST_IMDS_HOST
[ -n "$IMDS_HOST" ] || IMDS_HOST=169.254.169.254
IMDS_PORT=$OVERCAST_IMDS_PORT
[ -n "$IMDS_PORT" ] || IMDS_PORT=80
STATE=/var/lib/overcast
RUN=/run/overcast
TOKEN=
DEFAULT_USER=admin

log() {
	echo "overcast-init: $*"
}

# An IMDSv2 token: PUT /latest/api/token; prints the body of a 200 answer.
fetch_token() {
	printf 'PUT /latest/api/token HTTP/1.0\r\nHost: %s\r\nX-aws-ec2-metadata-token-ttl-seconds: 21600\r\nContent-Length: 0\r\nConnection: close\r\n\r\n' "$IMDS_HOST" |
		nc -w 1 "$IMDS_HOST" "$IMDS_PORT" 2>/dev/null | tr -d '\r' >"$RUN/token.http"
	head -n 1 "$RUN/token.http" | grep -q '^HTTP/1\.[01] 200' || return 1
	sed '1,/^$/d' "$RUN/token.http"
}

# get PATH: prints latest/PATH (with the token when there is one); fails on any error or non-200.
# (timeout, not wget -T: this busybox's wget crashes on -T.)
get() {
	if [ -n "$TOKEN" ]; then
		timeout 5 wget -q -O - --header "X-aws-ec2-metadata-token: $TOKEN" "http://$IMDS_HOST:$IMDS_PORT/latest/$1"
	else
		timeout 5 wget -q -O - "http://$IMDS_HOST:$IMDS_PORT/latest/$1"
	fi
}

# Finds the service: a token (IMDSv2), else plain answers (IMDSv1); 10 tries 100 ms apart.
connect() {
	tries=0
	while [ "$tries" -lt 10 ]; do
		TOKEN=$(fetch_token) && [ -n "$TOKEN" ] && return 0
		TOKEN=
		get meta-data/instance-id >/dev/null 2>&1 && return 0
		tries=$((tries + 1))
		sleep 0.1
	done
	return 1
}

install_keys() {
	if ! get meta-data/public-keys/0/openssh-key >"$RUN/key" 2>/dev/null || [ ! -s "$RUN/key" ]; then
		log "no key pair"
		return 0
	fi
	for home in /root "/home/$DEFAULT_USER"; do
		mkdir -p "$home/.ssh"
		chmod 700 "$home/.ssh"
		cp "$RUN/key" "$home/.ssh/authorized_keys"
		chmod 600 "$home/.ssh/authorized_keys"
	done
	chown -R "$DEFAULT_USER:$DEFAULT_USER" "/home/$DEFAULT_USER/.ssh"
	log "installed the key pair's public key for root and $DEFAULT_USER"
}

# The instance store: block-device-mapping/ephemeral0 names it (sdb); the device is /dev/xvdb or /dev/nvme1n1.
mount_instance_store() {
	name=$(get meta-data/block-device-mapping/ephemeral0 2>/dev/null) || return 0
	name=$(echo "$name" | sed 's#^/dev/##')
	[ -n "$name" ] || return 0
	letter=$(echo "$name" | sed -n 's/^\(sd\|xvd\)\([a-z]*\)$/\2/p')
	candidates="/dev/$name"
	[ -n "$letter" ] && candidates="/dev/xvd$letter /dev/sd$letter"
	for dev in $candidates /dev/nvme1n1; do
		[ -b "$dev" ] || continue
		if grep -q "^$dev " /proc/mounts 2>/dev/null; then
			log "instance store $dev is already mounted"
		elif mkdir -p /mnt && mount "$dev" /mnt 2>/dev/null; then
			log "instance store $dev mounted at /mnt"
		else
			log "instance store $dev holds no file system this kernel mounts (not mounted)"
		fi
		return 0
	done
	log "instance store $name: no device"
}

# The user data, at the instance's first boot only (an image made from another instance runs
# it again: the done file names the instance it ran for): run if it is a script (#!), its output
# on the console.
run_user_data() {
	iid=$(get meta-data/instance-id 2>/dev/null)
	[ -e "$STATE/user-data.done" ] && [ "$(cat "$STATE/user-data.done")" = "$iid" ] && return 0
	# fetched into a file of its own and copied: busybox timeout's watcher process keeps the
	# fetch's output open for a while, and a script still open for writing cannot be run (ETXTBSY)
	if ! get user-data >"$STATE/user-data.part" 2>/dev/null; then
		rm -f "$STATE/user-data.part"
		echo "$iid" >"$STATE/user-data.done"
		return 0
	fi
	cat "$STATE/user-data.part" >"$STATE/user-data"
	rm -f "$STATE/user-data.part"
	echo "$iid" >"$STATE/user-data.done"
	if [ "$(head -c 2 "$STATE/user-data")" = '#!' ]; then
		chmod 700 "$STATE/user-data"
		log "running the user data"
		"$STATE/user-data"
		log "the user data exited with status $?"
	elif [ -s "$STATE/user-data" ]; then
		log "the user data is not a script (#!): not run"
	fi
}

mkdir -p "$STATE" "$RUN"
case "$1" in
early)
	if connect; then
		install_keys
		mount_instance_store
	else
		log "no instance metadata service at $IMDS_HOST:$IMDS_PORT"
	fi
	;;
late)
	if connect; then
		run_user_data
	else
		log "no instance metadata service at $IMDS_HOST:$IMDS_PORT"
	fi
	log ready
	;;
*)
	echo "usage: overcast-init early|late" >&2
	exit 2
	;;
esac
exit 0
`;

export const PROFILE = String.raw`# /etc/profile (Overcast tiny)
PATH=/usr/sbin:/usr/bin:/sbin:/bin
export PATH
if [ "$(id -u)" -eq 0 ]; then PS1='\h:\w# '; else PS1='\u@\h:\w$ '; fi
export PS1
`;
