#!/usr/bin/env bash
# A real one-node SLURM cluster on this machine, for tests/test_slurm.py and .ci/run:
#   bash scripts/slurm_local.sh install   # Debian slurm-wlm + munge (root; once)
#   bash scripts/slurm_local.sh start     # munged, slurmctld and slurmd on localhost; prints SLURM_CONF=...
#   bash scripts/slurm_local.sh stop      # stops what `start` started
#
# Everything lives in $SARBENCH_SLURM_DIR (default /tmp/sarbench-slurm): slurm.conf, state, spool,
# logs and pid files; /etc/slurm is not touched, so clients need SLURM_CONF=$SARBENCH_SLURM_DIR/slurm.conf
# (the test sets it). The node is this host with all its CPUs (`nproc`), one partition `debug`,
# no accounting database (slurmdbd) and no cgroups (proctrack/linuxproc): enough for sbatch,
# job arrays, squeue, scancel and requeue. Daemons run as root. Ports: $SARBENCH_SLURM_PORT
# (slurmctld, default 6817) and the next one (slurmd).
set -euo pipefail
DIR=${SARBENCH_SLURM_DIR:-/tmp/sarbench-slurm}
PORT=${SARBENCH_SLURM_PORT:-6817}
CONF=$DIR/slurm.conf

install() {
    if command -v slurmctld >/dev/null && command -v slurmd >/dev/null && command -v munged >/dev/null; then
        return 0
    fi
    if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
        echo "slurm_local: slurm-wlm and munge are not installed and cannot be (needs root and apt-get)" >&2
        return 3
    fi
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends slurm-wlm munge >/dev/null
}

write_conf() {
    local host cpus memory
    host=$(hostname -s)
    cpus=$(nproc)
    memory=$(awk '/MemTotal/ {print int($2 / 1024 * 0.9)}' /proc/meminfo)
    mkdir -p "$DIR/state" "$DIR/spool" "$DIR/munge"
    cat >"$CONF" <<EOF
ClusterName=sarbench-local
SlurmctldHost=$host
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$DIR/munge/munge.socket
CredType=cred/munge
SlurmctldPort=$PORT
SlurmdPort=$((PORT + 1))
StateSaveLocation=$DIR/state
SlurmdSpoolDir=$DIR/spool
SlurmctldPidFile=$DIR/slurmctld.pid
SlurmdPidFile=$DIR/slurmd.pid
SlurmctldLogFile=$DIR/slurmctld.log
SlurmdLogFile=$DIR/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
ReturnToService=2
SlurmdTimeout=30
InactiveLimit=0
KillWait=5
MinJobAge=60
NodeName=$host CPUs=$cpus RealMemory=$memory State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF
}

start() {
    install
    stop >/dev/null 2>&1 || true
    write_conf
    # Our own munged (own key, socket and pid file): a system munged, if any, is left alone.
    if [ ! -s "$DIR/munge/munge.key" ]; then
        dd if=/dev/urandom of="$DIR/munge/munge.key" bs=1024 count=1 status=none
    fi
    chmod 700 "$DIR/munge"
    chmod 400 "$DIR/munge/munge.key"
    munged --force --key-file="$DIR/munge/munge.key" --socket="$DIR/munge/munge.socket" \
        --pid-file="$DIR/munge/munged.pid" --log-file="$DIR/munge/munged.log" \
        --seed-file="$DIR/munge/munged.seed"
    slurmctld -f "$CONF"
    slurmd -f "$CONF"
    for _ in $(seq 1 60); do
        if SLURM_CONF=$CONF sinfo -h -o '%t' 2>/dev/null | grep -qE '^(idle|mix|alloc)'; then
            echo "SLURM_CONF=$CONF"
            return 0
        fi
        sleep 1
    done
    echo "slurm_local: the node did not become idle in 60 s; logs in $DIR:" >&2
    tail -n 20 "$DIR/slurmctld.log" "$DIR/slurmd.log" >&2 || true
    SLURM_CONF=$CONF sinfo >&2 || true
    return 1
}

stop_pid() {
    local file=$1
    [ -s "$file" ] || return 0
    local pid
    pid=$(cat "$file")
    if kill "$pid" 2>/dev/null; then
        for _ in $(seq 1 50); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -9 "$pid" 2>/dev/null || true
    fi
    rm -f "$file"
}

stop() {
    if [ -f "$CONF" ]; then
        SLURM_CONF=$CONF scancel --quiet --user="$(id -un)" 2>/dev/null || true
    fi
    stop_pid "$DIR/slurmd.pid"
    stop_pid "$DIR/slurmctld.pid"
    stop_pid "$DIR/munge/munged.pid"
}

case "${1:-}" in
    install) install ;;
    start) start ;;
    stop) stop ;;
    *)
        echo "usage: $0 install|start|stop" >&2
        exit 2
        ;;
esac
