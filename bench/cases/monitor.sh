# shellcheck shell=bash
# The monitor's cost on the live path (issue 14): established published-port
# UDP pps, as bench/cases/published.sh measures it, with
#   none   no monitor connected (bpfnet_monitor's subscribers 0)
#   idle   `bpfnetctl monitor --type drop` connected, nothing dropped
#   flood  the same monitor, and a second source flooding packets that are
#          dropped (a container's spoofed source: invalid-source-ip)
#   flood-nomon  the flood without a monitor (what the flood itself costs)
# measured interleaved, one run of each per pass, the order rotated every
# pass. Sourced by scripts/bench_monitor.sh (functions of bench/lib.sh).
#
# client pcl --veth--> up0 (bpfnetd's uplink, XDP or tc) --DNAT--> container
# pc (10.216.0.2), counted by an XDP counter on pc's eth0: one pktgen thread
# on CPU 0, as the established rows. The flood: pktgen in container pd
# (10.216.0.3) out of its eth0 with source 10.216.0.99, one thread on CPU 1
# (the other core: on one core two generators would split it between them
# whatever the monitor does), to pc; bpfnet_from_container drops it on pd's
# host-side veth. bpfnetd and the monitor run on CPU 1 too (bpfnet_daemon).

MON_FLOOD_SRC=10.216.0.99
MON_CASES="none idle flood flood-nomon"

# The monitor: `bpfnetctl monitor --type drop -o json` in the background,
# its events to $T/mon.out; returns once the daemon answered (it subscribed).
MON_PID=""
monitor_start() {
  rm -f "$T/mon.out" "$T/mon.err"
  taskset -c "$(($(nproc) - 1))" "$BPFNETCTL" --socket "$T/bpfnetd.sock" monitor --type drop -o json \
    >"$T/mon.out" 2>"$T/mon.err" &
  MON_PID=$!
  BG_PIDS+=("$MON_PID")
  local _
  for _ in $(seq 1 100); do
    grep -q "monitoring" "$T/mon.err" 2>/dev/null && return 0
    kill -0 "$MON_PID" 2>/dev/null || break
    sleep 0.05
  done
  cat "$T/mon.err" >&2
  die "bpfnetctl monitor did not start"
}
# Stops it (SIGINT: it prints its summary); in this shell (not in a $(...),
# which cannot wait for it).
monitor_stop() {
  kill -INT "$MON_PID"
  wait "$MON_PID" || die "bpfnetctl monitor failed: $(cat "$T/mon.err")"
  MON_PID=""
}
# "EVENTS LOST" from the summary of the monitor that stopped.
monitor_summary() {
  "$PY" -c '
import json, sys
s = None
for line in open(sys.argv[1]):
    line = line.strip()
    if line.startswith("{\"summary\""):
        s = json.loads(line)["summary"]
if s is None:
    sys.exit("no summary from bpfnetctl monitor")
print(s["events"], s["lost"])' "$T/mon.out"
}

# The drop flood: SECS seconds of spoofed frames from pd, in the background.
FLOOD_PID=""
flood_start() {  # flood_start SECS
  "$PKTGEN" --netns "$(ns pd)" --iface eth0 --dst-mac "$MON_FLOOD_MAC" --dst-ip 10.216.0.2 \
    --src-ip "$MON_FLOOD_SRC" --dport 9 --size "$PPS_SIZE" --flows "$PPS_FLOWS" --cpus 1 \
    --duration "$1" --json >"$T/flood.json" 2>"$T/flood.err" &
  FLOOD_PID=$!
  BG_PIDS+=("$FLOOD_PID")
  sleep 0.3  # under way before the measured stream starts
}
flood_stop() {  # (in this shell, as monitor_stop)
  wait "$FLOOD_PID" || die "flood pktgen failed: $(cat "$T/flood.err")"
  FLOOD_PID=""
}
flood_pps() {
  "$PY" -c 'import json, sys; print(json.load(open(sys.argv[1]))["pps"])' "$T/flood.json"
}

invalid_sip_drops() {
  ctl stats -o json | "$PY" -c '
import json, sys
print(sum(d["packets"] for d in json.load(sys.stdin)["drops"] if d["reason"] == "invalid-source-ip"))'
}

# One run of CASE: appends "CASE PASS DELIVERED OFFERED FLOOD_PPS DROPS EVENTS LOST"
# to $T/monitor_runs.
monitor_case_once() {  # monitor_case_once CASE DST_MAC RX_MODE
  local case=$1 dmac=$2 cmode=$3 out out2 flood=0 events=0 lost=0 d0 d1
  d0=$(invalid_sip_drops)
  [[ $case == idle || $case == flood ]] && monitor_start
  [[ $case == flood* ]] && flood_start "$(awk -v s="$PPS_SECS" 'BEGIN { print s + 0.6 }')"
  out=$(pps_once pcl eth0 "$dmac" "$PUB_HOST" 10000 pc:eth0 "$cmode")
  if [[ $case == flood* ]]; then
    flood_stop
    flood=$(flood_pps)
  fi
  if [[ $case == idle || $case == flood ]]; then
    sleep 0.5  # the daemon's last lost count reaches the monitor
    monitor_stop
    out2=$(monitor_summary)
    read -r events lost <<<"$out2"
  fi
  d1=$(invalid_sip_drops)
  echo "$case $PASS $out $flood $((d1 - d0)) $events $lost" >>"$T/monitor_runs"
  log "  $case: $(awk '{ printf "%.3f Mpps", $1 / 1e6 }' <<<"$out"), flood $(awk '{ printf "%.2f Mpps", $1 / 1e6 }' <<<"$flood"), drops $((d1 - d0)), events $events, lost $lost"
}

run_monitor_cost() {  # run_monitor_cost xdp|tc
  local mode=$1 cmode label
  if [ "$mode" = xdp ]; then label="XDP"; cmode=native; else label="tc (default on a veth)"; cmode=generic; fi
  log "the monitor's cost, published port UDP established, bpfnet $label uplink path"
  pub_client
  if [ "$mode" = xdp ]; then
    in_ns pcl ethtool -K eth0 tx off >/dev/null
    bpfnet_daemon --uplink up0:xdp
  else
    bpfnet_daemon --uplink up0
    "$XDPCOUNT" --netns "$(ns host)" --iface up0 --set-gro on
  fi
  make_ns pc
  make_ns pd
  ctl network create pub --subnet 10.216.0.0/24 >/dev/null
  ctl network connect pub pc --netns "$(ns pc)" >/dev/null  # 10.216.0.2
  ctl network connect pub pd --netns "$(ns pd)" >/dev/null  # 10.216.0.3
  ctl port-map add pc 10000:20000/udp >/dev/null
  local dmac hostveth
  dmac=$(resolve_mac pcl "$PUB_HOST")
  MON_FLOOD_MAC=$(resolve_mac pd 10.216.0.2)
  # pd's frames come by XDP redirect into its eth0: GRO on at the host side
  # so that they reach bpfnet's tc program there (bench/README.md).
  hostveth=$(peer_ifname pd eth0 host)
  "$XDPCOUNT" --netns "$(ns host)" --iface "$hostveth" --set-gro on
  prime_flows pcl "$dmac" "$PUB_HOST" 10000
  : >"$T/monitor_runs"
  local cases n k
  read -r -a cases <<<"$MON_CASES"
  n=${#cases[@]}
  for PASS in $(seq 1 "$PASSES"); do
    log "pass $PASS of $PASSES"
    for ((k = 0; k < n; k++)); do
      monitor_case_once "${cases[$(((k + PASS - 1) % n))]}" "$dmac" "$cmode"
    done
  done
  cp "$T/monitor_runs" "$T/monitor_runs.$mode"
  stop_bpfnet
  del_ns pcl pc pd
}
