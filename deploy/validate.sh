#!/usr/bin/env bash
# Validates the deployment material offline:
#   1. the authsidecar config embedded in every ConfigMap passes the real
#      binary's `check-config`, and every pod matches its config and the
#      rules of deploy/README.md (deploy/check_manifests.py);
#   2. yamllint (strict, deploy/yamllint.yaml) on the manifests, the
#      Kustomization files and the embedded configs;
#   3. kubernetes-validate --strict against the oldest Kubernetes these
#      manifests support (1.29: native sidecars on by default) and the newest
#      the pinned kubernetes-validate bundles. It ships the schemas, so no
#      cluster and no network are needed once the venv exists.
# The tools are pip-installed into a venv on first use (the only step that
# needs the network: PyPI). Usage: deploy/validate.sh [AUTHSIDECAR_BINARY]
# (default: the repository's target/debug/authsidecar; build it first with
# `cargo build --bin authsidecar`).
set -euo pipefail
caller_dir=$(pwd)
cd "$(dirname "$0")/.."
root=$(pwd)
# A binary given as an argument is relative to the caller's directory.
binary=${1:-$root/target/debug/authsidecar}
case $binary in /*) ;; *) binary=$caller_dir/$binary ;; esac
venv=${VALIDATE_VENV:-$root/.venv-validate}
manifests=deploy/kubernetes
k8s_versions=(1.29.0 1.37.0)
requirements=(kubernetes-validate==1.37.0 yamllint==1.38.0 PyYAML==6.0.4)

if [ ! -x "$binary" ]; then
  echo "no authsidecar binary at $binary; run 'cargo build --bin authsidecar' first" >&2
  exit 1
fi

if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
# Install only when a pin is missing, so later runs work without a network.
installed=$("$venv/bin/pip" freeze --disable-pip-version-check 2>/dev/null || true)
for requirement in "${requirements[@]}"; do
  if ! grep -qix "$requirement" <<<"$installed"; then
    "$venv/bin/pip" install --quiet --disable-pip-version-check "${requirements[@]}"
    break
  fi
done

shopt -s nullglob
work=$(mktemp -d "${TMPDIR:-/tmp}/authsidecar-validate.XXXXXX")
trap 'rm -rf "$work"' EXIT

echo "=== configs (check-config with $binary) and pod rules"
"$venv/bin/python" deploy/check_manifests.py "$binary" "$manifests" "$work"

echo "=== yamllint"
mapfile -t yaml_files < <(find "$manifests" -type f \( -name '*.yaml' -o -name Kustomization \) |
  sort)
"$venv/bin/yamllint" --strict -c deploy/yamllint.yaml "${yaml_files[@]}" \
  deploy/yamllint.yaml "$work"/embedded/*.yaml
echo "yamllint ok: ${#yaml_files[@]} manifest files and the embedded configs"

echo "=== kubernetes-validate --strict"
# Kustomization files are kustomize's, not Kubernetes objects.
mapfile -t objects < <(find "$manifests" -type f -name '*.yaml' | sort)
for version in "${k8s_versions[@]}"; do
  # An unknown kind or apiVersion is only a warning to kubernetes-validate;
  # here it is a failure, since it means the object was not checked.
  if ! "$venv/bin/kubernetes-validate" --strict --quiet -k "$version" "${objects[@]}" \
    >"$work/validate.out" 2>&1 || grep -q . "$work/validate.out"; then
    cat "$work/validate.out" >&2
    echo "kubernetes-validate failed against $version" >&2
    exit 1
  fi
  echo "kubernetes-validate ok: ${#objects[@]} files against Kubernetes $version"
done
