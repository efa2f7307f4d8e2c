#!/usr/bin/env bash
# Start/stop a single-node Slurm (Debian's slurmctld + slurmd + munge) for skysift's cluster tests.
#
#   tools/slurm-single-node.sh start   # writes $STATE/slurm.conf, starts munged (if needed), slurmctld, slurmd
#   tools/slurm-single-node.sh stop    # stops only the daemons this script started (PIDs in $STATE/*.pid)
#   tools/slurm-single-node.sh status
#   tools/slurm-single-node.sh env     # prints `export SLURM_CONF=...` for the shell
#
# Needs root and the Debian packages munge slurmctld slurmd slurm-client
# (`tools/slurm-single-node.sh install` installs them). For a test machine only: the
# configuration lives in $SKYSIFT_SLURM_DIR (default /tmp/skysift-slurm) and
# /etc/slurm/slurm.conf is a symlink to it, because srun inside a job reads the default
# path (SLURM_CONF does not reach job steps); an existing slurm.conf that is not ours is
# never replaced. Without slurmdbd there is no sacct, so profiles/slurm checks job status
# with squeue.
set -euo pipefail

STATE=${SKYSIFT_SLURM_DIR:-/tmp/skysift-slurm}
CONF=$STATE/slurm.conf
PARTITION=${SKYSIFT_SLURM_PARTITION:-debug}

log() { echo "slurm-single-node: $*" >&2; }

install_packages() {
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends munge slurmctld slurmd slurm-client >/dev/null
}

write_conf() {
  local host node mem
  host=$(hostname -s)
  node=$(slurmd -C | head -n 1)
  mem=$(sed -n 's/.*RealMemory=\([0-9]*\).*/\1/p' <<<"$node")
  mem=$((mem * 95 / 100))
  node=$(sed "s/RealMemory=[0-9]*/RealMemory=$mem/" <<<"$node")
  mkdir -p "$STATE/ctld" "$STATE/slurmd"
  cat >"$CONF" <<CONF
ClusterName=skysift
SlurmctldHost=$host(127.0.0.1)
AuthType=auth/munge
CredType=cred/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
DefMemPerCPU=1000
MinJobAge=300
ReturnToService=2
SlurmUser=root
SlurmdUser=root
SlurmctldPidFile=$STATE/slurmctld.daemon.pid
SlurmdPidFile=$STATE/slurmd.daemon.pid
SlurmdSpoolDir=$STATE/slurmd
StateSaveLocation=$STATE/ctld
SlurmctldLogFile=$STATE/slurmctld.log
SlurmdLogFile=$STATE/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
JobAcctGatherType=jobacct_gather/none
$node NodeAddr=127.0.0.1 State=UNKNOWN
PartitionName=$PARTITION Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF
}

start_munge() {
  if pgrep -x munged >/dev/null; then
    log "munged already running (not ours, left alone)"
    return
  fi
  if [ ! -s /etc/munge/munge.key ]; then
    mkdir -p /etc/munge
    dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 status=none
  fi
  chown munge:munge /etc/munge/munge.key
  chmod 400 /etc/munge/munge.key
  mkdir -p /run/munge /var/log/munge /var/lib/munge
  chown munge:munge /run/munge /var/log/munge /var/lib/munge
  runuser -u munge -- /usr/sbin/munged
  sleep 0.5
  pgrep -x -u munge munged >"$STATE/munged.pid"
  log "munged started (pid $(tr '\n' ' ' <"$STATE/munged.pid"))"
}

wait_idle() {
  local i
  for i in $(seq 1 60); do
    if SLURM_CONF=$CONF sinfo -h -o '%t' 2>/dev/null | grep -qE '^idle'; then
      log "node idle after ${i}s"
      return 0
    fi
    sleep 1
  done
  log "node did not become idle; see $STATE/slurmctld.log and $STATE/slurmd.log"
  SLURM_CONF=$CONF sinfo -N -l >&2 || true
  return 1
}

start() {
  mkdir -p "$STATE" /run/slurm
  if [ -s "$STATE/slurmctld.pid" ] && kill -0 "$(cat "$STATE/slurmctld.pid")" 2>/dev/null; then
    log "already running ($STATE)"
    return 0
  fi
  write_conf
  if [ -e /etc/slurm/slurm.conf ] && [ "$(readlink /etc/slurm/slurm.conf)" != "$CONF" ]; then
    log "/etc/slurm/slurm.conf exists and is not ours: refusing to replace a real cluster's configuration"
    return 1
  fi
  mkdir -p /etc/slurm
  ln -sfn "$CONF" /etc/slurm/slurm.conf
  start_munge
  SLURM_CONF=$CONF slurmctld -f "$CONF" -i
  sleep 1
  cp "$STATE/slurmctld.daemon.pid" "$STATE/slurmctld.pid"
  SLURM_CONF=$CONF slurmd -f "$CONF"
  sleep 1
  cp "$STATE/slurmd.daemon.pid" "$STATE/slurmd.pid"
  log "slurmctld pid $(cat "$STATE/slurmctld.pid"), slurmd pid $(cat "$STATE/slurmd.pid"), config $CONF"
  wait_idle
}

stop() {
  local name pid
  for name in slurmd slurmctld munged; do
    [ -s "$STATE/$name.pid" ] || continue
    for pid in $(cat "$STATE/$name.pid"); do
      if kill -0 "$pid" 2>/dev/null; then
        kill "$pid" || true
        for _ in $(seq 1 20); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
        if kill -0 "$pid" 2>/dev/null; then kill -9 "$pid" || true; fi
        log "stopped $name (pid $pid)"
      fi
    done
    rm -f "$STATE/$name.pid"
  done
  if [ "$(readlink /etc/slurm/slurm.conf 2>/dev/null)" = "$CONF" ]; then
    rm -f /etc/slurm/slurm.conf
  fi
}

case "${1:-}" in
  install) install_packages ;;
  start) start ;;
  stop) stop ;;
  status) SLURM_CONF=$CONF sinfo -N -l && SLURM_CONF=$CONF squeue ;;
  env) echo "export SLURM_CONF=$CONF" ;;
  *) echo "usage: $0 install|start|stop|status|env" >&2; exit 2 ;;
esac
