#!/usr/bin/env bash
# A one-node SLURM cluster on this machine, for tests/test_cluster.py (`make test-cluster`).
#
#   tests/cluster/slurm.sh install    Debian's slurm-wlm and munge, when missing (apt-get, as
#                                     root or through sudo, like the Makefile's browser target)
#   tests/cluster/slurm.sh run        install; start the cluster; print its state folder; keep
#                                     it up until standard input ends (or Enter, Ctrl-C,
#                                     SIGTERM), then stop it
#   tests/cluster/slurm.sh stop DIR   stop a cluster whose `run` was killed outright
#
# `run` refuses, touching nothing, on a machine that already has /etc/slurm/slurm.conf (or
# gres.conf) or a running slurmctld or slurmd: it never meddles with a real installation.
# Otherwise it writes /etc/slurm/slurm.conf and gres.conf (where Slurm looks by default: the
# executor plugin's job step drops SLURM_CONF) for one node (this host, `hostname -s`, with the
# CPUs and memory `slurmd -C` finds and two stand-in GPUs, character devices in the state
# folder) in one partition, `gpu` (the slurm profile's), with no accounting and no cgroups; it
# starts munged (on a socket of its own, as the munge user), `slurmctld -D` and `slurmd -D` as
# its children, their state, logs and PIDs in a fresh /tmp/dfp-slurm.XXXXXX, and waits until the
# node is idle. Stopping cancels the cluster's jobs, kills exactly the daemons it started (by
# PID), waits for them, and removes the two configuration files and the state folder: the
# machine is left as found, apart from the installed packages.
set -euo pipefail

PACKAGES=(slurm-wlm munge)
CONF=/etc/slurm/slurm.conf
GRES=/etc/slurm/gres.conf
MARK="# Written by tests/cluster/slurm.sh"
SUDO=$([[ $(id -u) == 0 ]] && echo "" || echo sudo)
# Stopped in this order: the node, then the controller, then authentication.
DAEMONS=(slurmd slurmctld munged)

die() {
  echo "slurm.sh: $*" >&2
  exit 1
}

install() {
  if command -v slurmctld >/dev/null && command -v slurmd >/dev/null \
    && command -v sbatch >/dev/null && command -v munged >/dev/null; then
    return
  fi
  command -v apt-get >/dev/null \
    || die "the cluster test needs slurmctld, slurmd, sbatch and munged; this machine has" \
      "no apt-get: install Slurm and MUNGE with its package manager"
  echo "Installing Debian's ${PACKAGES[*]} system-wide for the cluster test" >&2
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends \
    "${PACKAGES[@]}" >&2
}

# The PIDs of the running processes named $1, if any.
running() {
  pgrep -x "$1" | xargs || true
}

# Whether process $1 runs (whoever owns it; a zombie does not).
alive() {
  local stat
  stat=$(ps -o stat= -p "$1" 2>/dev/null) && [[ $stat != Z* ]]
}

refuse_an_existing_installation() {
  local found=()
  [[ -e $CONF ]] && found+=("$CONF exists")
  [[ -e $GRES ]] && found+=("$GRES exists")
  [[ -n $(running slurmctld) ]] && found+=("a slurmctld runs (pid $(running slurmctld))")
  [[ -n $(running slurmd) ]] && found+=("a slurmd runs (pid $(running slurmd))")
  if ((${#found[@]})); then
    if [[ -f $CONF && $(head -1 "$CONF") == "$MARK"* ]]; then
      found+=("it is a test cluster's; if that was killed, $(head -1 "$CONF" | sed 's/.*; //')")
    fi
    local joined
    joined=$(printf '; %s' "${found[@]}")
    die "refusing to start a test cluster: this machine already has SLURM (${joined:2})." \
      "The cluster test starts its own" \
      "one-node cluster only where there is none, and leaves an existing one alone: run it on a" \
      "machine (or container) without SLURM."
  fi
}

# Starts "$@" as a child of this shell in a session of its own (Ctrl-C reaches this script,
# which stops the daemons in order), output in $2, PID (the daemon's own: exec keeps it) in $1.
daemon() {
  local pidfile=$1 log=$2
  shift 2
  $SUDO setsid bash -c 'echo $$ >"$1"; exec </dev/null >"$2" 2>&1; shift 2; exec "$@"' \
    _ "$pidfile" "$log" "$@" </dev/null >/dev/null 2>&1 &
  for _ in $(seq 50); do
    [[ -s $pidfile ]] && return
    sleep 0.1
  done
  die "$* did not start: $($SUDO cat "$log")"
}

write_configuration() {
  local dir=$1 host node
  host=$(hostname -s)
  # The node as slurmd finds it (CPUs, sockets, cores, threads, RealMemory).
  node=$(slurmd -C)
  node=${node%%$'\n'*}
  [[ $node == "NodeName=$host "* ]] || die "slurmd -C says '$node', not of host $host"
  {
    echo "$MARK (state in $dir); tests/cluster/slurm.sh stop $dir removes it."
    echo "ClusterName=dfptest"
    echo "SlurmctldHost=$host(127.0.0.1)"
    echo "SlurmUser=root"
    echo "SlurmdUser=root"
    echo "AuthType=auth/munge"
    echo "CredType=cred/munge"
    echo "AuthInfo=socket=$dir/munge/munge.socket"
    echo "StateSaveLocation=$dir/state"
    echo "SlurmdSpoolDir=$dir/spool"
    echo "SlurmctldPidFile=$dir/slurmctld.pid"
    echo "SlurmdPidFile=$dir/slurmd.pid"
    echo "SlurmctldLogFile=$dir/slurmctld.log"
    echo "SlurmdLogFile=$dir/slurmd.log"
    echo "ProctrackType=proctrack/linuxproc"
    echo "TaskPlugin=task/none"
    echo "JobAcctGatherType=jobacct_gather/none"
    echo "AccountingStorageType=accounting_storage/none"
    echo "JobCompType=jobcomp/none"
    echo "MpiDefault=none"
    echo "SchedulerType=sched/backfill"
    echo "SelectType=select/cons_tres"
    echo "SelectTypeParameters=CR_Core_Memory"
    echo "ReturnToService=2"
    # A finished job stays visible to squeue (the slurm profile's status command) this long,
    # well above the executor plugin's polling interval.
    echo "MinJobAge=600"
    echo "GresTypes=gpu"
    echo "$node NodeAddr=127.0.0.1 Gres=gpu:2 State=UNKNOWN"
    echo "PartitionName=gpu Nodes=ALL Default=YES MaxTime=INFINITE State=UP"
  } | $SUDO tee "$CONF" >/dev/null
  {
    echo "$MARK (state in $dir)."
    echo "NodeName=$host Name=gpu File=$dir/dev/nvidia[0-1]"
  } | $SUDO tee "$GRES" >/dev/null
}

start() {
  local dir=$1
  $SUDO chmod 755 "$dir"
  $SUDO mkdir -m 755 "$dir/munge" "$dir/state" "$dir/spool" "$dir/dev" "$dir/pids"
  $SUDO chown munge:munge "$dir/munge"
  # Two stand-in GPUs: Slurm keeps a GPU only with a device file (these are /dev/null's).
  $SUDO mknod "$dir/dev/nvidia0" c 1 3
  $SUDO mknod "$dir/dev/nvidia1" c 1 3
  write_configuration "$dir"
  daemon "$dir/pids/munged" "$dir/munged.out" setpriv --reuid=munge --regid=munge \
    --init-groups munged --foreground --socket="$dir/munge/munge.socket" \
    --pid-file="$dir/munge/munged.pid" --log-file="$dir/munge/munged.log" \
    --seed-file="$dir/munge/munged.seed"
  for _ in $(seq 50); do
    [[ -S $dir/munge/munge.socket ]] && break
    sleep 0.1
  done
  daemon "$dir/pids/slurmctld" "$dir/slurmctld.out" slurmctld -D
  daemon "$dir/pids/slurmd" "$dir/slurmd.out" slurmd -D
  local state=""
  for _ in $(seq 300); do
    state=$(sinfo --noheader --Node --format=%T 2>/dev/null | head -1 || true)
    [[ $state == idle ]] && return
    sleep 0.2
  done
  echo "slurm.sh: the node is not idle after 60 s (state '$state'); the logs:" >&2
  $SUDO tail -n 20 "$dir"/*.log "$dir"/*.out >&2 || true
  sinfo --list-reasons >&2 || true
  exit 1
}

stop() {
  local dir=$1
  # The cluster's jobs first (it is ours: run refused to start beside another), so that no
  # job outlives its slurmd.
  if [[ -s $dir/pids/slurmctld ]] && alive "$(cat "$dir/pids/slurmctld")"; then
    local jobs
    jobs=$(squeue --noheader --format=%i 2>/dev/null | xargs || true)
    if [[ -n $jobs ]]; then
      # shellcheck disable=SC2086  # one argument per job
      $SUDO scancel $jobs 2>/dev/null || true
      for _ in $(seq 100); do
        [[ -z $(squeue --noheader --states=PENDING,RUNNING,COMPLETING 2>/dev/null) ]] && break
        sleep 0.1
      done
    fi
  fi
  local name pid
  for name in "${DAEMONS[@]}"; do
    [[ -s $dir/pids/$name ]] || continue
    pid=$(cat "$dir/pids/$name")
    alive "$pid" || continue
    $SUDO kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 100); do
      alive "$pid" || break
      sleep 0.1
    done
    if alive "$pid"; then
      echo "slurm.sh: $name (pid $pid) ignored SIGTERM for 10 s: killed" >&2
      $SUDO kill -KILL "$pid" 2>/dev/null || true
    fi
  done
  wait 2>/dev/null || true  # the daemons this shell started (no zombie is left)
  # Only the configuration this script wrote for this cluster (it carries the mark).
  local file
  for file in "$CONF" "$GRES"; do
    if [[ -f $file && $(head -1 "$file") == "$MARK (state in $dir)"* ]]; then
      $SUDO rm -f "$file"
    fi
  done
  $SUDO rm -rf "$dir"
}

run() {
  refuse_an_existing_installation
  install
  refuse_an_existing_installation # a package's scripts may have started something
  STATE=$($SUDO mktemp -d /tmp/dfp-slurm.XXXXXX)
  # However this script ends from here on (a failed start included), the cluster is stopped.
  trap 'stop "$STATE"' EXIT
  trap 'exit 143' TERM INT HUP
  start "$STATE"
  echo "$STATE"
  # Up until standard input ends or gives a line (or a signal comes).
  read -r _ || true
}

case ${1:-} in
  install) install ;;
  run) run ;;
  stop)
    [[ -d ${2:-} ]] || die "usage: slurm.sh stop DIR (the folder slurm.sh run printed)"
    stop "$2"
    ;;
  *) die "usage: slurm.sh install | run | stop DIR" ;;
esac
