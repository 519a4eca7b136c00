#!/usr/bin/env bash
# A three-node JetStream cluster on loopback, for trying PixTools scaled out (and for the fault suite).
#
#   scripts/nats-cluster.sh start        start all three nodes (or `start 2`: only node 2), wait until ready
#   scripts/nats-cluster.sh kill 2       SIGKILL node 2 (a crash; its data stays)
#   scripts/nats-cluster.sh stop         stop every node (SIGTERM) and keep the data
#   scripts/nats-cluster.sh clean        stop and delete the data
#
# Clients: NATS_URL=nats://127.0.0.1:14222,nats://127.0.0.1:14223,nats://127.0.0.1:14224
#          PIXTOOLS_STREAM_REPLICAS=3
# Node n listens on 1422n (clients), 1622n (routes), 1822n (monitoring). Configs, data, logs and pid
# files live under $NATS_CLUSTER_DIR (default: $TMPDIR/pixtools-nats-cluster). Each node's config is a
# nats.conf with the cluster block filled in.
set -euo pipefail

DIR="${NATS_CLUSTER_DIR:-${TMPDIR:-/tmp}/pixtools-nats-cluster}"
NATS_SERVER="${NATS_SERVER:-$(command -v nats-server || echo /usr/sbin/nats-server)}"
NODES=(1 2 3)

port() { echo $((14221 + $1)); }
route_port() { echo $((16221 + $1)); }
http_port() { echo $((18221 + $1)); }

write_config() {
  local n=$1
  mkdir -p "$DIR/n$n"
  cat >"$DIR/n$n.conf" <<CONF
server_name: pixtools-$n
listen: 127.0.0.1:$(port "$n")
http: 127.0.0.1:$(http_port "$n")
max_payload: 1MB

jetstream {
  store_dir: "$DIR/n$n"
  # the events stream reserves EVENTS_MAX_BYTES (10 GiB by default) on every node
  max_file_store: 16GB
  max_memory_store: 256MB
}

cluster {
  name: pixtools
  listen: 127.0.0.1:$(route_port "$n")
  routes: [
    nats-route://127.0.0.1:$(route_port 1)
    nats-route://127.0.0.1:$(route_port 2)
    nats-route://127.0.0.1:$(route_port 3)
  ]
}
CONF
}

running() { [[ -f "$DIR/n$1.pid" ]] && kill -0 "$(cat "$DIR/n$1.pid")" 2>/dev/null; }

start_node() {
  local n=$1
  if running "$n"; then echo "node $n already running (pid $(cat "$DIR/n$n.pid"))"; return; fi
  write_config "$n"
  "$NATS_SERVER" -c "$DIR/n$n.conf" -P "$DIR/n$n.pid" -l "$DIR/n$n.log" </dev/null >/dev/null 2>&1 &
  disown
  echo "node $n starting: nats://127.0.0.1:$(port "$n") (log $DIR/n$n.log)"
}

# Serving = the node answers and knows the JetStream meta leader (it takes client requests for streams).
# Ready = also /healthz: every stream and consumer replica on it is current. A node restarted after a
# crash may report a consumer "not current" until that consumer sees activity again (nats-server 2.9),
# so `start` waits for health up to NATS_READY_SECONDS (default 30) and, past that, goes on with a
# warning when the node is serving: the cluster works, and the replica catches up with the next events.
READY_SECONDS="${NATS_READY_SECONDS:-30}"
serving() {
  curl -fsS "http://127.0.0.1:$(http_port "$1")/jsz" 2>/dev/null | grep -q '"leader": *"[^"]'
}
wait_ready() {
  local n=$1
  for _ in $(seq 1 $((READY_SECONDS * 5))); do
    if curl -fsS "http://127.0.0.1:$(http_port "$n")/healthz" >/dev/null 2>&1; then
      echo "node $n ready"
      return
    fi
    sleep 0.2
  done
  local health
  health=$(curl -sS "http://127.0.0.1:$(http_port "$n")/healthz" 2>&1 || true)
  for _ in $(seq 1 150); do
    if serving "$n"; then
      echo "node $n serving; not all its replicas are current yet after $READY_SECONDS s: $health" >&2
      return
    fi
    sleep 0.2
  done
  echo "node $n not serving after $((READY_SECONDS + 30)) s: $health; see $DIR/n$n.log" >&2
  tail -n 20 "$DIR/n$n.log" >&2 || true
  exit 1
}

cmd="${1:-start}"
shift || true
targets=("${@:-${NODES[@]}}")
case "$cmd" in
  start)
    mkdir -p "$DIR"
    for n in "${targets[@]}"; do start_node "$n"; done
    for n in "${targets[@]}"; do wait_ready "$n"; done
    echo "NATS_URL=nats://127.0.0.1:14222,nats://127.0.0.1:14223,nats://127.0.0.1:14224 PIXTOOLS_STREAM_REPLICAS=3"
    ;;
  kill)
    for n in "${targets[@]}"; do
      if running "$n"; then kill -KILL "$(cat "$DIR/n$n.pid")"; rm -f "$DIR/n$n.pid"; echo "node $n killed"; fi
    done
    ;;
  stop | clean)
    for n in "${targets[@]}"; do
      if running "$n"; then
        pid=$(cat "$DIR/n$n.pid")
        kill -TERM "$pid"
        for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
        echo "node $n stopped"
      fi
      rm -f "$DIR/n$n.pid"
    done
    if [[ "$cmd" == clean ]]; then rm -rf "$DIR"; echo "removed $DIR"; fi
    ;;
  *)
    echo "usage: $0 start|kill|stop|clean [node...]" >&2
    exit 2
    ;;
esac
