#!/usr/bin/env bash
# Issue 15: bash completion of bpfnetctl (scripts/bpfnetctl.bash-completion):
# verbs and flags from the verb table, names from a live daemon, checked the
# way bash runs it (complete -p, then the function on COMP_WORDS).
source "$(dirname "$0")/lib.sh"

setup_host
make_ns c1
start_daemon
ctl network create web --subnet 10.93.0.0/24 >/dev/null
ctl network create db --subnet 10.93.1.0/24 >/dev/null
ctl network connect web c1 --netns "$(ns c1)" >/dev/null

PATH="$(dirname "$BPFNETCTL"):$PATH"
# shellcheck source=/dev/null
source "$ROOT/scripts/bpfnetctl.bash-completion"
[ "$(complete -p bpfnetctl)" = "complete -o default -F _bpfnetctl bpfnetctl" ] ||
  fail "complete -p: $(complete -p bpfnetctl)"
offers() {  # offers WORD...: what bash would offer for the last word
  COMP_WORDS=(bpfnetctl --socket "$SOCK" "$@")
  COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
  COMPREPLY=()
  _bpfnetctl
  echo "${COMPREPLY[*]}"
}
check() {  # check "EXPECTED" WORD...
  local want=$1; shift
  local got; got=$(offers "$@")
  [ "$got" = "$want" ] || fail "bpfnetctl $* <TAB>: got '$got', wanted '$want'"
  log "bpfnetctl $* <TAB> -> $got"
}
check "network" net
check "connect create" network c
check "--driver" network create --dr
check "bridge overlay" network create --driver ""
check "bridge db host none web" network inspect ""
check "web" network connect w
check "c1" network disconnect web ""
check "json table" network ls -o ""
check "" nosuchverb ""
check "flows" fl
check "--network" flows --netw
check "tcp udp" flows --proto ""
check "c1" flows ""
check "bridge db host none web" flows --network ""
