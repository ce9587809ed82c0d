# A real load balancer in front of several `redress serve` nodes: Debian's
# haproxy, started by the test as the test's own user, in the foreground
# (-db: no daemon, no pid file), with a configuration written into the
# test's temporary directory. It listens on 127.0.0.1 on a free port and
# sends requests round-robin to the nodes that answer GET /readyz with
# 200. Source it after server.bash; the balancer is a server of
# server.bash's (its NAME is "lb"), so the exit trap stops it too.
#
# What the balancer may retry: only a connection to a node that could not
# be made (haproxy's `retry-on` default, connect-failure), on another node
# (`option redispatch`). Such a request never reached a node, so sending it
# elsewhere cannot make it happen twice. A request that reached a node and
# got no answer, or a 502/503/504, may have been processed there (its
# commit may have gone through just before the node died or its database
# went away): only the client may send it again, with the same
# Idempotency-Key, which makes the second sending a replay or the first
# run. So no `retry-on` beyond the default here, ever.

# free_port: a port of 127.0.0.1 nothing listens on now
free_port() {
	local port low=32768
	# below the kernel's ephemeral ports: a node started again on its port
	# must not find it taken by a client's connection meanwhile
	read -r low _ </proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || true
	[ "$low" -gt 12000 ] || low=32768
	for _ in $(seq 50); do
		port=$((10000 + RANDOM % (low - 10000)))
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
			echo "$port"
			return 0
		fi
	done
	echo "no free port on 127.0.0.1" >&2
	return 1
}

# lb_config PORT STATS_PORT NODE-ADDRESS...: the configuration, on stdout.
# Health checks every 300 ms; a node is out after 2 failed checks, back
# after 1 good one.
lb_config() {
	local port=$1 stats=$2 n=0 addr
	shift 2
	cat <<EOF
global
    maxconn 512

defaults
    mode http
    timeout connect 2s
    timeout client 30s
    timeout server 30s
    timeout check 3s
    # only connections that could not be made are retried, on another node
    retries 3
    option redispatch 1

frontend api
    bind 127.0.0.1:$port
    default_backend nodes

backend nodes
    balance roundrobin
    option httpchk
    http-check send meth GET uri /readyz
    http-check expect status 200
    default-server inter 300ms fastinter 300ms downinter 300ms fall 2 rise 1
EOF
	for addr in "$@"; do
		n=$((n + 1))
		echo "    server node$n $addr check"
	done
	cat <<EOF

listen stats
    bind 127.0.0.1:$stats
    stats enable
    stats uri /stats
EOF
}

# lb_start NODE-ADDRESS...: start haproxy in front of these nodes
# (HOST:PORT each); sets $LB_BASE (http://127.0.0.1:PORT), $LB_STATS and
# $PID_lb. Its configuration is $E2E_TMP/haproxy.cfg, its output lb.out
# and lb.err. Ends the test when haproxy does not start.
lb_start() {
	local port stats
	port=$(free_port) && stats=$(free_port) || { fail "no free port"; finish; exit 1; }
	lb_config "$port" "$stats" "$@" >"$E2E_TMP/haproxy.cfg"
	haproxy -c -q -f "$E2E_TMP/haproxy.cfg" ||
		{ fail "haproxy refuses its configuration"; finish; exit 1; }
	launch_command lb haproxy -db -f "$E2E_TMP/haproxy.cfg"
	LB_BASE="http://127.0.0.1:$port"
	LB_STATS="http://127.0.0.1:$stats/stats;csv"
	for _ in $(seq 100); do
		curl -s -o /dev/null "$LB_STATS" && { ok; return 0; }
		kill -0 "$PID_lb" 2>/dev/null || break
		sleep 0.1
	done
	fail "haproxy did not start: $(cat "$E2E_TMP/lb.out" "$E2E_TMP/lb.err")"
	finish
	exit 1
}

# lb_reload NODE-ADDRESS...: the same listeners in front of these nodes:
# a new haproxy takes the ports over (-sf) and the old one ends once its
# connections are done, so no client is refused meanwhile.
lb_reload() {
	local old=$PID_lb port stats
	port=${LB_BASE##*:}
	stats=${LB_STATS#http://127.0.0.1:}
	stats=${stats%%/*}
	lb_config "$port" "$stats" "$@" >"$E2E_TMP/haproxy.cfg"
	haproxy -c -q -f "$E2E_TMP/haproxy.cfg" ||
		{ fail "haproxy refuses its new configuration"; return 1; }
	launch_command lb_new haproxy -db -f "$E2E_TMP/haproxy.cfg" -sf "$old"
	PID_lb=$PID_lb_new
	# the old one's exit, reaped
	eval "PID_lb_old=$old"
	wait_server lb_old 30
	[ "$STOP_CODE" = 0 ] && ok || fail "the old haproxy ended with $STOP_CODE"
}

# lb_stop: stop haproxy (SIGTERM: it stops at once); $STOP_CODE
lb_stop() {
	stop_server lb TERM 10
}

# lb_states: "NAME SESSIONS STATUS" of each node as haproxy sees it
# (SESSIONS the requests it was sent in all; STATUS UP, DOWN, or one in
# transition such as "UP 1/2", going down after a failed check)
lb_states() {
	curl -s "$LB_STATS" | awk -F, '
		NR == 1 { sub(/^# /, ""); for (i = 1; i <= NF; i++) col[$i] = i; next }
		$1 == "nodes" && $2 != "BACKEND" {
			print $2, $col["stot"], $col["status"] }'
}

# lb_await_up N WHAT: wait (up to 20 s) until haproxy has N nodes UP
lb_await_up() {
	local up=""
	for _ in $(seq 200); do
		up=$(lb_states | awk '$3 == "UP" && NF == 3' | wc -l)
		[ "$up" = "$1" ] && { ok; return 0; }
		sleep 0.1
	done
	fail "$2: haproxy has $up nodes up, not $1 ($(lb_states | tr '\n' ';'))"
}
