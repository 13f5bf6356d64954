# Sourced by the tests that run the real Pulumi CLI (test/engine/run.sh, test/cluster/stack.sh):
# pulumi_env DIR PASSPHRASE gives them a Pulumi home and a file backend of their own under DIR, no
# update check, no plugin download (the toolchain's plugins are on PATH), and no KUBECONFIG: the
# Kubernetes provider would take it as its kubeconfig input (render mode refuses one; the cluster
# tests set the stack's own).
pulumi_env() {
  export PULUMI_HOME="$1/home"
  export PULUMI_BACKEND_URL="file://$1/state"
  export PULUMI_CONFIG_PASSPHRASE="$2"
  export PULUMI_SKIP_UPDATE_CHECK=1
  export PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true
  unset KUBECONFIG
}
