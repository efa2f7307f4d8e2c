#!/usr/bin/env bash
# Start/stop a single-node Slurm with accounting (munge, MariaDB, slurmdbd, slurmctld, slurmd) for
# skysift's cluster tests: accounts and associations enforced, partitions with time limits, a QOS.
#
#   tools/slurm-single-node.sh start   # writes $STATE/*.conf, starts what is not running, creates the
#                                      # cluster, account, associations and QOS in slurmdbd
#   tools/slurm-single-node.sh stop    # stops only the daemons this script started (PIDs in $STATE/*.pid)
#   tools/slurm-single-node.sh purge   # stop, then delete $STATE (the accounting database included)
#   tools/slurm-single-node.sh status
#   tools/slurm-single-node.sh env     # prints `export SLURM_CONF=...` for the shell
#
# What the tests get (like a real site, scaled down):
#   cluster  skysift
#   account  skysift-test (root's association; root also keeps its default account `root`)
#   QOS      normal (default) and skysift (granted to root's associations)
#   short    the default partition, MaxTime 1 hour;  long: MaxTime 2 days
#   AccountingStorageEnforce=associations,limits,qos, EnforcePartLimits=ALL (a job asking more time
#   than its partition allows is rejected at sbatch, not left pending)
#
# Needs root and the Debian packages munge slurmctld slurmd slurm-client slurmdbd mariadb-server
# (`tools/slurm-single-node.sh install` installs them). For a test machine only: everything lives in
# $SKYSIFT_SLURM_DIR (default /tmp/skysift-slurm): configuration, logs, state and a private MariaDB
# (own data directory, socket and port $SKYSIFT_SLURM_DB_PORT, default 3307; a system MariaDB is left
# alone). /etc/slurm/slurm.conf is a symlink to $STATE/slurm.conf, because srun inside a job reads the
# default path (SLURM_CONF does not reach job steps); an existing slurm.conf that is not ours is
# never replaced.
set -euo pipefail

STATE=${SKYSIFT_SLURM_DIR:-/tmp/skysift-slurm}
CONF=$STATE/slurm.conf
DBD_CONF=$STATE/slurmdbd.conf
DB_DIR=$STATE/mariadb
DB_RUN=$STATE/mariadb-run  # socket, PID file and log: written by the mysql user
DB_SOCK=$DB_RUN/mariadb.sock
DB_PORT=${SKYSIFT_SLURM_DB_PORT:-3307}
DBD_PORT=${SKYSIFT_SLURMDBD_PORT:-6819}
CLUSTER=skysift
ACCOUNT=skysift-test
QOS=skysift
export SLURM_CONF=$CONF

log() { echo "slurm-single-node: $*" >&2; }

install_packages() {
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends \
    munge slurmctld slurmd slurm-client slurmdbd mariadb-server >/dev/null
}

running() { [ -s "$STATE/$1.pid" ] && kill -0 "$(head -n 1 "$STATE/$1.pid")" 2>/dev/null; }

# Wait up to $1 seconds for the command "${@:2}" to succeed.
wait_for() {
  local seconds=$1 i
  shift
  for i in $(seq 1 "$((seconds * 4))"); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 0.25
  done
  return 1
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
ClusterName=$CLUSTER
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
EnforcePartLimits=ALL
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
AccountingStorageType=accounting_storage/slurmdbd
AccountingStorageHost=127.0.0.1
AccountingStoragePort=$DBD_PORT
AccountingStorageEnforce=associations,limits,qos
AccountingStoreFlags=job_comment
JobCompType=jobcomp/none
JobAcctGatherType=jobacct_gather/linux
JobAcctGatherFrequency=30
$node NodeAddr=127.0.0.1 State=UNKNOWN
PartitionName=short Nodes=$host Default=YES MaxTime=01:00:00 State=UP
PartitionName=long Nodes=$host Default=NO MaxTime=2-00:00:00 State=UP
CONF
  # The database password is made once, with the database, and kept with it.
  cat >"$DBD_CONF" <<CONF
AuthType=auth/munge
DbdAddr=127.0.0.1
DbdHost=localhost
DbdPort=$DBD_PORT
SlurmUser=root
PidFile=$STATE/slurmdbd.daemon.pid
LogFile=$STATE/slurmdbd.log
DebugLevel=info
StorageType=accounting_storage/mysql
StorageHost=127.0.0.1
StoragePort=$DB_PORT
StorageUser=slurm
StoragePass=$(cat "$STATE/mariadb.slurm-password")
StorageLoc=slurm_acct_db
CONF
  chmod 600 "$DBD_CONF"
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

mariadb_sql() { mariadb --no-defaults --socket="$DB_SOCK" -u root -N -B -e "$1"; }

start_mariadb() {
  if running mariadb; then
    log "MariaDB already running (pid $(cat "$STATE/mariadb.pid"))"
    return
  fi
  local fresh=0
  if [ ! -d "$DB_DIR/mysql" ]; then
    fresh=1
    rm -rf "$DB_DIR"
    mkdir -p "$DB_DIR"
    chown mysql:mysql "$DB_DIR"
    mariadb-install-db --no-defaults --user=mysql --datadir="$DB_DIR" \
      --auth-root-authentication-method=socket --skip-test-db >"$STATE/mariadb-install.log" 2>&1 ||
      { log "mariadb-install-db failed, see $STATE/mariadb-install.log"; return 1; }
  fi
  mkdir -p "$DB_RUN"
  chown mysql:mysql "$DB_RUN"
  # Small buffers: a test database; the lock timeout is the one slurmdbd asks for.
  setsid mariadbd --no-defaults --user=mysql --datadir="$DB_DIR" --socket="$DB_SOCK" \
    --port="$DB_PORT" --bind-address=127.0.0.1 --skip-name-resolve \
    --pid-file="$DB_RUN/mariadbd.pid" --log-error="$DB_RUN/mariadbd.log" \
    --innodb-buffer-pool-size=64M --innodb-log-file-size=32M --innodb-lock-wait-timeout=900 \
    </dev/null >/dev/null 2>&1 &
  if ! wait_for 60 mariadb_sql "SELECT 1"; then
    log "MariaDB did not answer on $DB_SOCK; see $DB_RUN/mariadbd.log"
    return 1
  fi
  cp "$DB_RUN/mariadbd.pid" "$STATE/mariadb.pid"
  if [ "$fresh" = 1 ] || [ -z "$(mariadb_sql "SELECT User FROM mysql.user WHERE User='slurm'")" ]; then
    local password
    password=$(head -c 18 /dev/urandom | base64 | tr -dc 'A-Za-z0-9')
    mariadb_sql "CREATE OR REPLACE USER 'slurm'@'127.0.0.1' IDENTIFIED BY '$password';
                 GRANT ALL ON slurm_acct_db.* TO 'slurm'@'127.0.0.1';"
    (umask 077 && echo "$password" >"$STATE/mariadb.slurm-password")
  fi
  log "MariaDB started (pid $(cat "$STATE/mariadb.pid"), port $DB_PORT, data $DB_DIR)"
}

start_slurmdbd() {
  if running slurmdbd; then
    log "slurmdbd already running (pid $(cat "$STATE/slurmdbd.pid"))"
    return
  fi
  slurmdbd
  if ! wait_for 60 sacctmgr -n show cluster; then
    log "slurmdbd does not answer; see $STATE/slurmdbd.log"
    return 1
  fi
  cp "$STATE/slurmdbd.daemon.pid" "$STATE/slurmdbd.pid"
  log "slurmdbd started (pid $(cat "$STATE/slurmdbd.pid"), port $DBD_PORT)"
}

# The cluster, the test account, root's association and a QOS; each only if missing (start is idempotent).
setup_accounting() {
  local user
  exec 3>&1 >>"$STATE/accounting-setup.log"  # sacctmgr's reports; restored below
  if [ -z "$(sacctmgr -n -P show cluster "$CLUSTER" format=cluster)" ]; then
    sacctmgr -i -Q add cluster "$CLUSTER"
  fi
  if [ -z "$(sacctmgr -n -P show qos "$QOS" format=name)" ]; then
    sacctmgr -i -Q add qos "$QOS" Description="skysift test QOS"
  fi
  if [ -z "$(sacctmgr -n -P show account "$ACCOUNT" format=account)" ]; then
    sacctmgr -i -Q add account "$ACCOUNT" Cluster="$CLUSTER" Description="skysift tests" Organization=skysift
  fi
  for user in root ${SKYSIFT_SLURM_USERS:-}; do
    if [ -z "$(sacctmgr -n -P show assoc cluster="$CLUSTER" account="$ACCOUNT" user="$user" format=user)" ]; then
      sacctmgr -i -Q add user "$user" Account="$ACCOUNT" Cluster="$CLUSTER"
    fi
    if ! sacctmgr -n -P show assoc cluster="$CLUSTER" account="$ACCOUNT" user="$user" format=qos | grep -qw "$QOS"; then
      sacctmgr -i -Q modify user where name="$user" cluster="$CLUSTER" set qos+="$QOS"
    fi
  done
  exec 1>&3 3>&-
  log "accounting: cluster $CLUSTER, account $ACCOUNT, QOS $QOS for root ${SKYSIFT_SLURM_USERS:-}"
}

wait_idle() {
  local i
  for i in $(seq 1 60); do
    if sinfo -h -o '%t' 2>/dev/null | grep -qE '^idle'; then
      log "node idle after ${i}s"
      return 0
    fi
    sleep 1
  done
  log "node did not become idle; see $STATE/slurmctld.log and $STATE/slurmd.log"
  sinfo -N -l >&2 || true
  return 1
}

start() {
  mkdir -p "$STATE" /run/slurm
  if running slurmctld && running slurmd && running slurmdbd; then
    log "already running ($STATE)"
    return 0
  fi
  if [ -e /etc/slurm/slurm.conf ] && [ "$(readlink /etc/slurm/slurm.conf)" != "$CONF" ]; then
    log "/etc/slurm/slurm.conf exists and is not ours: refusing to replace a real cluster's configuration"
    return 1
  fi
  start_munge
  start_mariadb
  write_conf
  mkdir -p /etc/slurm
  ln -sfn "$CONF" /etc/slurm/slurm.conf
  start_slurmdbd
  setup_accounting
  if ! running slurmctld; then
    slurmctld -f "$CONF" -i
    sleep 1
    cp "$STATE/slurmctld.daemon.pid" "$STATE/slurmctld.pid"
  fi
  if ! running slurmd; then
    slurmd -f "$CONF"
    sleep 1
    cp "$STATE/slurmd.daemon.pid" "$STATE/slurmd.pid"
  fi
  log "slurmctld pid $(cat "$STATE/slurmctld.pid"), slurmd pid $(cat "$STATE/slurmd.pid"), config $CONF"
  wait_idle
}

stop() {
  local name pid
  for name in slurmd slurmctld slurmdbd mariadb munged; do
    [ -s "$STATE/$name.pid" ] || continue
    for pid in $(cat "$STATE/$name.pid"); do
      if kill -0 "$pid" 2>/dev/null; then
        kill "$pid" || true
        # MariaDB flushes InnoDB on the way down: give it longer than the Slurm daemons.
        for _ in $(seq 1 120); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
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

purge() {
  stop
  if [ -d "$STATE" ]; then
    rm -rf "$STATE"
    log "removed $STATE (configuration, logs, job state, accounting database)"
  fi
}

status() {
  sinfo -N -l
  squeue
  sacctmgr -n -P show assoc format=cluster,account,user,partition,qos,defaultqos
}

case "${1:-}" in
  install) install_packages ;;
  start) start ;;
  stop) stop ;;
  purge) purge ;;
  status) status ;;
  env) echo "export SLURM_CONF=$CONF" ;;
  *) echo "usage: $0 install|start|stop|purge|status|env" >&2; exit 2 ;;
esac
