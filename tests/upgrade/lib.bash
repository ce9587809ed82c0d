# Shared by dump.bash and make-fixture.bash (sourced; each defines die and
# WORK first).

# start_server: `redress serve` on a free loopback port, its output in
# $WORK; sets SERVER_PID and BASE (http://127.0.0.1:PORT), or dies.
start_server() {
	local port=""
	"$REDRESS" serve --listen 127.0.0.1:0 --sweep-interval 0 --rate-limit 0 \
		>"$WORK/serve.out" 2>"$WORK/serve.err" &
	SERVER_PID=$!
	for _ in $(seq 200); do
		port=$(sed -n 's|^redress listening on http://127\.0\.0\.1:\([0-9][0-9]*\)$|\1|p' "$WORK/serve.out")
		[ -n "$port" ] && break
		kill -0 "$SERVER_PID" 2>/dev/null || break
		sleep 0.05
	done
	[ -n "$port" ] || die "the server did not start: $(cat "$WORK/serve.err")"
	# shellcheck disable=SC2034 # read by the scripts that source this
	BASE=http://127.0.0.1:$port
}
