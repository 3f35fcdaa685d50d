# shellcheck shell=bash
# LB: published-port UDP through a 3-replica service, in the daemon session of
# bench/cases/published.sh (before its single-container rows). Sourced by
# scripts/bench.sh (functions of bench/lib.sh).

# A service with three replicas (each with a counter) published on
# 30000/udp. Set up while the conntrack is empty: the daemon's service
# requests read the whole conntrack (backend flow counts), which takes
# seconds once it is full. bpfnetd health-checks every service's backends
# (without --health: a TCP connect to the service's first port every 2 s,
# out after 3 failures), and the replicas have no TCP listener while their
# XDP counters drop every frame, probes included: the checks are pushed out
# of the run (one probe an hour, out after 100 failures) so that the
# replicas stay in. The session removes the replicas' namespaces.
lb_rows() {  # lb_rows MODE LABEL DST_MAC COUNTER_MODE
  local mode=$1 label=$2 dmac=$3 cmode=$4 r
  for r in 1 2 3; do
    make_ns "lbr$r"
    ctl network connect pub "lbr$r" --netns "$(ns "lbr$r")" >/dev/null
  done
  ctl service create lbsvc --network pub --port 9/udp --publish 30000:9/udp \
    --health tcp --health-interval 60m --health-fall 100 >/dev/null
  for r in 1 2 3; do ctl service add-backend lbsvc "lbr$r" >/dev/null; done

  # "new": NEW_FLOWS tuples (NEW_ADDRS source addresses x 65536 source
  # ports), far more than the conntrack holds (262144 entries, two per
  # flow), taken round robin: a tuple comes back only after NEW_FLOWS - 1
  # others, long after the LRU evicted it. Every new-flow figure of the
  # session is the steady state of a full conntrack (the LRU evicting a flow
  # for each new one): it is filled first by a flood of twice its flow
  # capacity. "established": PPS_FLOWS flows, each sent one packet first
  # (their conntrack entries exist).
  log "filling the conntrack: $((2 * CT_FLOWS)) new flows"
  new_flood pcl "$dmac" "$PUB_HOST" 30000 $((2 * CT_FLOWS))
  log_ct
  log "LB: published port through a 3-replica service, $label"
  pub_new_est_rows "lb_${mode}_" "" LB "published port UDP through a 3-replica service, bpfnet $label" \
    "$dmac" 30000 lbr1:eth0,lbr2:eth0,lbr3:eth0 "$cmode"
  # Every replica must still be in (a health check or anything else taking
  # one out would have skewed the rows above).
  ctl service inspect lbsvc | "$PY" -c '
import json, sys
b = json.load(sys.stdin)[0]["Backends"]
bad = [x["Container"] for x in b if x["State"] != "healthy"]
sys.exit("backends not healthy: %s" % bad if bad or len(b) != 3 else 0)' || die "LB backends changed during the run"
  ctl service rm lbsvc >/dev/null  # its published port goes with it
}
