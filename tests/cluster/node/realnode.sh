# shellcheck shell=bash
# A real node for the test cluster (sourced by scripts/testcluster; `up --real-node`).
#
# The node is its own network host: a network namespace "nps-<cluster>" joined to the host by a
# veth pair (host 10.N.0.1 <-> node 10.N.0.2, N from the cluster name). In it run Debian's
# containerd (+ runc, CRI plugin) with the CNI bridge plugin (host-local IPAM, pods in 10.N.1.0/24),
# our kubelet and kube-proxy (iptables mode; its rules live in the node's namespace, so they can
# neither see nor disturb the host's or another real node's), all built from the same Kubernetes
# module as the control plane. kubelet and kube-proxy join only the network namespace (nsenter
# --net), so kubelet's volume mounts are visible to containerd as on any node.
#
# The control plane stays on the host. The apiserver binds the host end of the link (10.N.0.1,
# host-internal, like loopback not reachable from outside), advertises it as the `kubernetes`
# Service's endpoint, and carries it and the Service IP in its certificate; one iptables rule in
# the host's nat OUTPUT chain sends kwokctl's components (which dial 127.0.0.1:PORT) there.
# kwok manages only nodes without the label nps.test/real-node; the real node registers with that
# label and a NoSchedule taint of the same key, so only pods that ask for it (the chart's
# controller, with a nodeSelector and toleration) land on it.
#
# The sandbox ("pause") image is our own static program (pause.c), packed by ociimage.py and
# imported under the name containerd's CRI config gives as sandbox_image.
#
# `down` (realnode_down) removes all of it: pods via the API, then containerd's leftovers with
# ctr, the processes, every mount under the node's directories, the namespace (with its veth,
# bridge and iptables rules), the host's nat rule and route, and the node's cgroups.

REALNODE_LABEL=nps.test/real-node
PAUSE_IMAGE=nps.local/pause:1
SERVICE_IP=10.0.0.1   # first IP of kube-apiserver's default --service-cluster-ip-range 10.0.0.0/24

# Per-cluster addresses and names (set REALNODE_* from $NAME and the state dir).
realnode_vars() {
  local st=$1 h
  h=$(printf '%s' "$NAME" | sha256sum | cut -c1-8)
  REALNODE_N=$(( 100 + 0x${h:0:4} % 100 ))
  REALNODE_HOST_IP=10.$REALNODE_N.0.1
  REALNODE_NODE_IP=10.$REALNODE_N.0.2
  REALNODE_POD_CIDR=10.$REALNODE_N.1.0/24
  REALNODE_NETNS=nps-$NAME
  REALNODE_VETH=nps${h}h
  REALNODE_NODE_NAME=$NAME-node
  REALNODE_DIR=$st/node                 # kubelet root, containerd root, configs, logs
  REALNODE_RUN=/run/nps-node-$h         # sockets and containerd state (short paths)
  REALNODE_CGROUP=nps-$NAME
  REALNODE_COMMENT="nps-testcluster $NAME"
}

# The network: namespace, veth, addresses, routes; before the control plane starts, so that the
# apiserver can bind 10.N.0.1 and kwokctl puts it into the certificate.
realnode_net_up() {
  local port=$1
  if ip -br addr | grep -qw "$REALNODE_HOST_IP/30"; then
    die "$REALNODE_HOST_IP is in use already (another real node with a colliding name?)"
  fi
  ip netns add "$REALNODE_NETNS"
  ip link add "$REALNODE_VETH" type veth peer name "${REALNODE_VETH%h}n"
  ip link set "${REALNODE_VETH%h}n" netns "$REALNODE_NETNS"
  ip addr add "$REALNODE_HOST_IP/30" dev "$REALNODE_VETH"
  ip link set "$REALNODE_VETH" up
  local n=(ip -n "$REALNODE_NETNS")
  "${n[@]}" link set "${REALNODE_VETH%h}n" name eth0
  "${n[@]}" addr add "$REALNODE_NODE_IP/30" dev eth0
  "${n[@]}" link set eth0 up
  "${n[@]}" link set lo up
  "${n[@]}" route add default via "$REALNODE_HOST_IP"
  ip netns exec "$REALNODE_NETNS" sysctl -qw net.ipv4.ip_forward=1
  # The host reaches the pods (Prometheus scrapes them) through the node.
  ip route add "$REALNODE_POD_CIDR" via "$REALNODE_NODE_IP" dev "$REALNODE_VETH"
  iptables -w -t nat -A OUTPUT -d 127.0.0.1/32 -p tcp --dport "$port" \
    -m comment --comment "$REALNODE_COMMENT" -j DNAT --to-destination "$REALNODE_HOST_IP:$port"
}

# kwokctl arguments of a cluster with a real node. The component arguments go through a
# KwokctlConfiguration (componentsPatches): kwokctl v0.8.0's --extra-args parser indexes its
# patches wrongly once a component's arguments are not adjacent (a panic).
realnode_kwokctl_args() {
  local port=$1 st=$2
  cat >"$st/realnode-kwokctl.yaml" <<EOF
apiVersion: config.kwok.x-k8s.io/v1alpha1
kind: KwokctlConfiguration
options:
  kubeApiserverCertSANs: ["$SERVICE_IP", "$REALNODE_HOST_IP"]
componentsPatches:
  - name: kube-apiserver
    extraArgs:
      - {key: bind-address, value: "$REALNODE_HOST_IP", override: true}
      - {key: advertise-address, value: "$REALNODE_HOST_IP"}
      - {key: kubelet-preferred-address-types, value: "InternalIP"}   # logs/exec: no DNS here
  - name: kwok-controller
    extraArgs:
      - {key: manage-all-nodes, value: "false", override: true}
      - {key: manage-nodes-with-label-selector, value: "!$REALNODE_LABEL"}
EOF
  REALNODE_KWOKCTL_ARGS=(--kube-apiserver-port "$port" --config "$st/realnode-kwokctl.yaml")
}

# The node's kubeconfig: the admin one, pointed at the apiserver's address on the node's link.
realnode_kubeconfig() {
  local admin=$1 out=$2 port=$3 cluster
  kubectl --kubeconfig "$admin" config view --raw --minify --flatten >"$out"
  cluster=$(kubectl --kubeconfig "$out" config view -o jsonpath='{.clusters[0].name}')
  kubectl --kubeconfig "$out" config set-cluster "$cluster" \
    --server "https://$REALNODE_HOST_IP:$port" >/dev/null
}

realnode_configs() {
  local d=$REALNODE_DIR
  mkdir -p "$d/cni/net.d" "$d/kubelet" "$d/containerd" "$REALNODE_RUN"
  cat >"$d/containerd.toml" <<EOF
version = 2
root = "$d/containerd"
state = "$REALNODE_RUN/containerd"
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper",
  "io.containerd.internal.v1.opt", "io.containerd.tracing.processor.v1.otlp"]
[grpc]
  address = "$REALNODE_RUN/containerd.sock"
[ttrpc]
  address = "$REALNODE_RUN/containerd.sock.ttrpc"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$PAUSE_IMAGE"
  netns_mounts_under_state_dir = true
  # Root here lacks CAP_SYS_RESOURCE (a sandboxed VM): runc may not lower oom_score_adj below
  # containerd's own (pause asks for -998), so the CRI keeps scores at or above it.
  restrict_oom_score_adj = true
  enable_cdi = false
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$d/cni/net.d"
EOF
  cat >"$d/cni/net.d/10-nps.conflist" <<EOF
{
  "cniVersion": "1.0.0",
  "name": "nps-pods",
  "plugins": [
    {
      "type": "bridge",
      "bridge": "cni0",
      "isGateway": true,
      "ipMasq": false,
      "hairpinMode": true,
      "ipam": {
        "type": "host-local",
        "ranges": [[{"subnet": "$REALNODE_POD_CIDR"}]],
        "routes": [{"dst": "0.0.0.0/0"}],
        "dataDir": "$d/cni/ipam"
      }
    }
  ]
}
EOF
  cat >"$d/kubelet.yaml" <<EOF
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: $REALNODE_NODE_IP
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
# The apiserver (kubectl logs/exec) reaches the kubelet only over the node's private link.
authentication:
  anonymous: {enabled: true}
  webhook: {enabled: false}
authorization: {mode: AlwaysAllow}
containerRuntimeEndpoint: unix://$REALNODE_RUN/containerd.sock
podLogsDir: $d/pod-logs
cgroupDriver: cgroupfs
cgroupRoot: /$REALNODE_CGROUP
failSwapOn: false
# This VM has cgroup v1; kubelet 1.35+ refuses it unless told (the node below is a test node).
failCgroupV1: false
resolvConf: /etc/resolv.conf
clusterDomain: cluster.local
maxPods: 30
serializeImagePulls: false
evictionHard: {memory.available: 100Mi, nodefs.available: 2%, imagefs.available: 2%, nodefs.inodesFree: 2%}
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
registerWithTaints:
  - {key: $REALNODE_LABEL, value: "true", effect: NoSchedule}
EOF
  cat >"$d/kube-proxy.yaml" <<EOF
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
clientConnection: {kubeconfig: $d/kubeconfig}
mode: iptables
hostnameOverride: $REALNODE_NODE_NAME
bindAddress: $REALNODE_NODE_IP
clusterCIDR: $REALNODE_POD_CIDR
metricsBindAddress: 127.0.0.1:10249
healthzBindAddress: 127.0.0.1:10256
# Leave the host-wide conntrack sysctls alone.
conntrack: {maxPerCore: 0, min: 0, tcpEstablishedTimeout: 0s, tcpCloseWaitTimeout: 0s}
iptables: {syncPeriod: 30s, minSyncPeriod: 1s}
EOF
}

# The kubelet's cgroup root, in every cgroup v1 hierarchy (cpuset needs its cpus and mems).
realnode_cgroups_up() {
  local h
  for h in /sys/fs/cgroup/*/; do
    [[ -f $h/cgroup.procs ]] || continue
    mkdir -p "$h$REALNODE_CGROUP"
    if [[ -f $h/cpuset.cpus ]]; then
      cat "$h/cpuset.cpus" >"$h$REALNODE_CGROUP/cpuset.cpus"
      cat "$h/cpuset.mems" >"$h$REALNODE_CGROUP/cpuset.mems"
    fi
  done
}

realnode_cgroups_down() {
  local h
  for h in /sys/fs/cgroup/*/; do
    [[ -d $h$REALNODE_CGROUP ]] || continue
    find "$h$REALNODE_CGROUP" -depth -type d -exec rmdir {} + 2>/dev/null || true
  done
}

realnode_pause_image() {
  local out=$REALNODE_DIR/pause
  mkdir -p "$out"
  gcc -static -Os -s -Wall -Wextra -Werror -o "$out/pause" "$REALNODE_SRC/pause.c"
  python3 "$REALNODE_SRC/ociimage.py" "$out/pause" "$PAUSE_IMAGE" "$out/pause.tar"
  realnode_ctr images import "$out/pause.tar" >/dev/null
}

realnode_ctr() { ctr --address "$REALNODE_RUN/containerd.sock" -n k8s.io "$@"; }

realnode_wait() {  # what, tries, command...
  local what=$1 tries=$2 _
  shift 2
  for _ in $(seq "$tries"); do "$@" >/dev/null 2>&1 && return 0; sleep 0.5; done
  die "$what did not come up (logs in $REALNODE_DIR)"
}

realnode_up() {
  local bin=$1 admin_kubeconfig=$2 port=$3 params=$4
  local d=$REALNODE_DIR ns=/var/run/netns/$REALNODE_NETNS
  for c in containerd containerd-shim-runc-v2 runc ctr gcc iptables nsenter; do
    command -v "$c" >/dev/null || die "$c is not installed (see .ci/run for the Debian packages)"
  done
  [[ -x /usr/lib/cni/bridge && -x /usr/lib/cni/host-local ]] || die "containernetworking-plugins is not installed"
  realnode_configs
  realnode_kubeconfig "$admin_kubeconfig" "$d/kubeconfig" "$port"
  realnode_cgroups_up
  log "starting containerd in network namespace $REALNODE_NETNS"
  setsid nsenter --net="$ns" containerd --config "$d/containerd.toml" >"$d/containerd.log" 2>&1 </dev/null &
  echo $! >"$d/containerd.pid"
  realnode_wait containerd 60 realnode_ctr version
  realnode_pause_image
  log "starting kubelet and kube-proxy (node $REALNODE_NODE_NAME, $REALNODE_NODE_IP)"
  setsid nsenter --net="$ns" "$bin/kubelet" --config "$d/kubelet.yaml" --kubeconfig "$d/kubeconfig" \
    --root-dir "$d/kubelet" --node-ip "$REALNODE_NODE_IP" --hostname-override "$REALNODE_NODE_NAME" \
    --node-labels "$REALNODE_LABEL=true" --v=2 >"$d/kubelet.log" 2>&1 </dev/null &
  echo $! >"$d/kubelet.pid"
  setsid nsenter --net="$ns" "$bin/kube-proxy" --config "$d/kube-proxy.yaml" --v=2 \
    >"$d/kube-proxy.log" 2>&1 </dev/null &
  echo $! >"$d/kube-proxy.pid"
  realnode_wait "node $REALNODE_NODE_NAME" 240 kubectl --kubeconfig "$admin_kubeconfig" wait \
    --for=condition=Ready "node/$REALNODE_NODE_NAME" --timeout=1s
  cat >>"$params" <<EOF
REAL_NODE=$REALNODE_NODE_NAME
REAL_NODE_IP=$REALNODE_NODE_IP
REAL_NODE_HOST_IP=$REALNODE_HOST_IP
REAL_NODE_POD_CIDR=$REALNODE_POD_CIDR
REAL_NODE_LABEL=$REALNODE_LABEL
REAL_NODE_CONTAINERD=$REALNODE_RUN/containerd.sock
EOF
}

realnode_stop_pid() {
  local f=$1 pid
  [[ -f $f ]] || return 0
  pid=$(cat "$f")
  if [[ $pid =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null; then
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$f"
}

# Unmount everything at or below a directory, deepest first.
realnode_umount_below() {
  local dir=$1 m
  [[ -n $dir && -d $dir ]] || return 0
  dir=$(realpath "$dir")
  while read -r m; do
    umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true
  done < <(awk -v d="$dir" '$2 == d || index($2, d "/") == 1 {print $2}' /proc/self/mounts | sort -r)
}

realnode_down() {
  local admin_kubeconfig=$1 bin=$2
  local d=$REALNODE_DIR
  # The pods first, through the API, so that the kubelet stops them and CNI releases their
  # addresses; then whatever containerd still holds.
  if [[ -f $d/kubelet.pid && -f $admin_kubeconfig ]] && kill -0 "$(cat "$d/kubelet.pid")" 2>/dev/null; then
    "$bin/kubectl" --kubeconfig "$admin_kubeconfig" delete pods --all-namespaces --wait=false \
      --field-selector "spec.nodeName=$REALNODE_NODE_NAME" --grace-period=1 >/dev/null 2>&1 || true
    for _ in $(seq 60); do
      [[ -z $(realnode_ctr tasks ls -q 2>/dev/null) ]] && break
      sleep 0.5
    done
  fi
  realnode_stop_pid "$d/kube-proxy.pid"
  realnode_stop_pid "$d/kubelet.pid"
  if [[ -S $REALNODE_RUN/containerd.sock ]]; then
    local t
    for t in $(realnode_ctr tasks ls -q 2>/dev/null); do
      realnode_ctr tasks kill -s SIGKILL "$t" >/dev/null 2>&1 || true
    done
    sleep 0.5
    for t in $(realnode_ctr tasks ls -q 2>/dev/null); do realnode_ctr tasks delete -f "$t" >/dev/null 2>&1 || true; done
    for t in $(realnode_ctr containers ls -q 2>/dev/null); do realnode_ctr containers delete "$t" >/dev/null 2>&1 || true; done
  fi
  realnode_stop_pid "$d/containerd.pid"
  # Shims of containers that outlived containerd (they run with -address of our socket).
  local pid
  for pid in $(pgrep -f "containerd-shim-runc-v2 .*-address $REALNODE_RUN/containerd.sock" 2>/dev/null); do
    kill -9 "$pid" 2>/dev/null || true
  done
  realnode_umount_below "$REALNODE_RUN"
  realnode_umount_below "$d"
  rm -rf --one-file-system "$REALNODE_RUN"
  if ip netns list | grep -qw "^$REALNODE_NETNS"; then ip netns delete "$REALNODE_NETNS"; fi
  ip link delete "$REALNODE_VETH" 2>/dev/null || true
  local rule
  while rule=$(iptables -w -t nat -S OUTPUT | grep -F -- "--comment \"$REALNODE_COMMENT\"" | head -1) && [[ -n $rule ]]; do
    eval "iptables -w -t nat ${rule/-A /-D }"
  done
  realnode_cgroups_down
}
