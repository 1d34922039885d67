#!/usr/bin/env bash
# Instructions per JSON request, counted by callgrind (repeatable where CPU
# time is not): each server serves 500, then 2,500 sequential requests on one
# keep-alive connection under valgrind; the difference over 2,000 cancels
# start-up. Needs valgrind and python3.
#
#   bench/callgrind-json.sh                       # the guide app: hyper, axum, justsse
#   bench/callgrind-json.sh hyper-http1 justsse   # the minimal endpoints (GET /json)
#   SERVER=/tmp/old/bench-server bench/callgrind-json.sh justsse-app
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build -q --release -p bench --bin bench-server
server=${SERVER:-target/release/bench-server}
names=("$@")
[ ${#names[@]} -gt 0 ] || names=(hyper-http1-app axum-app justsse-app)
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

# Sends N requests one after another on one connection, each read whole.
client='
import socket, sys, time
port, n, path = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
req = ("GET %s HTTP/1.1\r\nhost: bench\r\nauthorization: Bearer admin-token\r\n\r\n" % path).encode()
deadline = time.time() + 120
while True:
    try:
        s = socket.create_connection(("127.0.0.1", port)); break
    except OSError:
        if time.time() > deadline: raise
        time.sleep(0.2)
buf = b""
for i in range(n):
    s.sendall(req)
    while True:
        h = buf.find(b"\r\n\r\n")
        if h >= 0:
            head = buf[:h].lower()
            length = int(head.split(b"content-length:")[1].split(b"\r\n")[0])
            if len(buf) >= h + 4 + length:
                if not head.startswith(b"http/1.1 200"): sys.exit("not 200: %r" % head)
                buf = buf[h + 4 + length:]; break
        data = s.recv(65536)
        if not data: sys.exit("closed")
        buf += data
'

# Total instructions of server NAME serving N requests.
count() {
    local name=$1 n=$2 port=$((20000 + RANDOM % 20000)) path=/json
    [[ $name == *-app ]] && path=/tickets/1
    valgrind --tool=callgrind --callgrind-out-file="$out/$name.$n" \
        "$server" "$name" "$port" >/dev/null 2>"$out/$name.$n.log" &
    local pid=$!
    python3 -c "$client" "$port" "$n" "$path"
    # The servers that install no signal handler stop on TERM.
    kill -INT "$pid"
    sleep 0.5
    kill -TERM "$pid" 2>/dev/null || true
    wait "$pid" || true
    awk '/^(summary|totals):/ {print $2; exit}' "$out/$name.$n"
}

for name in "${names[@]}"; do
    small=$(count "$name" 500)
    large=$(count "$name" 2500)
    echo "$name: $(( (large - small) / 2000 )) instructions per request"
done
