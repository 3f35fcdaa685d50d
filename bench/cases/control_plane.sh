# shellcheck shell=bash
# (7) control plane: publishing N ports with bpfnetctl (an idle daemon; a
# daemon with a full conntrack, from bench/cases/published.sh) vs loading
# Docker's rules for them with iptables-restore. Sourced by scripts/bench.sh
# (functions of bench/lib.sh, docker_rules of bench/cases/docker_style.sh).

# Wall time of one `bpfnetctl port-map add pcx SPEC x N` (TCP host ports
# 20000.. -> 20000..; the daemon validates, writes the maps and persists its
# state before answering), on a freshly connected container each run.
run_bpfnet_control_plane() {  # run_bpfnet_control_plane NETWORK KEY_SUFFIX CASE_SUFFIX
  local net=$1 sfx=$2 what=$3 n r i specs t0 t1 vals got profile
  make_ns pcx
  for n in $CTL_N; do
    log "(7) publishing $n ports with bpfnetctl$what"
    specs=()
    for ((i = 0; i < n; i++)); do specs+=("$((20000 + i)):$((20000 + i))/tcp"); done
    vals=()
    for r in $(seq 1 "$RUNS"); do
      ctl network connect "$net" pcx --netns "$(ns pcx)" >/dev/null
      profile=""
      if [ -n "$PROFILE" ] && [ "$PASS" = 1 ] && [ "$r" = 1 ]; then
        profile="ctl_bpfnet${sfx}_$n"
        perf_start "$profile" 0.3 -p "$DAEMON_PID"
      fi
      t0=$EPOCHREALTIME
      ctl port-map add pcx "${specs[@]}" >/dev/null || die "port-map add of $n ports failed"
      t1=$EPOCHREALTIME
      [ -n "$profile" ] && perf_stop "$profile" dso,symbol 1
      vals+=("$(elapsed "$t0" "$t1")")
      got=$(ctl port-map ls pcx | grep -c ' -> ' || true)
      [ "$got" = "$n" ] || die "published $got ports, wanted $n"
      ctl network disconnect "$net" pcx >/dev/null
    done
    add_row "ctl_bpfnet${sfx}_$n" "(7)" "publish N=$n ports: bpfnetctl port-map add (one call)$what" s \
      "$(median "${vals[@]}") ${vals[*]}"
  done
  del_ns pcx
}
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.6f\n", b - a }'; }  # elapsed T0 T1: seconds

# A daemon of its own (uplink, one network, no flows, nothing published).
bpfnet_ctl_session() {
  log "(7) control plane: a fresh bpfnetd"
  pub_client
  bpfnet_daemon --uplink up0
  ctl network create cp --subnet 10.217.0.0/24 >/dev/null
  run_bpfnet_control_plane cp "" ", idle daemon"
  stop_bpfnet
  del_ns pcl
}

# Wall time of `iptables-{nft,legacy}-restore` loading the rules Docker
# writes for N published TCP ports (docker_rules), into a fresh namespace
# each run. Docker itself adds them one iptables call at a time, which is
# slower: this is the most favourable way to load them.
run_docker_control_plane() {
  local backend n r vals se
  for backend in nft legacy; do
    for n in $CTL_N; do
      log "(7) loading Docker's rules for $n ports with iptables-$backend-restore"
      docker_rules "$n" dbr0 10.214.0.0/24 10.214.0.2 tcp >"$T/rules.$n"
      vals=()
      for r in $(seq 1 "$RUNS"); do
        make_ns dcp
        se=$(in_ns dcp bash -c 's=$EPOCHREALTIME; "$1" <"$2" || exit 1; echo "$s $EPOCHREALTIME"' \
          _ "iptables-$backend-restore" "$T/rules.$n") || die "iptables-$backend-restore failed"
        vals+=("$(elapsed "${se% *}" "${se#* }")")
        del_ns dcp
      done
      add_row "ctl_${backend}_$n" "(7)" "publish N=$n ports: Docker's rules, iptables-$backend-restore" s \
        "$(median "${vals[@]}") ${vals[*]}"
    done
  done
}
