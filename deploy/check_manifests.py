"""Checks deploy/kubernetes beyond the Kubernetes schema (called by validate.sh).

1. Every Kustomization lists exactly the .yaml files beside it, so
   `kubectl apply -k DIR` and `kubectl apply -f DIR` create the same objects.
2. The authsidecar config in every ConfigMap passes `authsidecar check-config`.
   check-config requires the TLS files to exist, and the real ones exist only
   in the pod (from the Secret), so the values of tls.cert_file and
   tls.key_file, and nothing else, are replaced by the paths of a throwaway
   self-signed pair made here with openssl. The embedded texts are also
   written to WORK_DIR/embedded/ for yamllint.
3. Every pod that runs authsidecar matches its config and the rules in
   deploy/README.md: container ports equal `listen` and `admin.listen`, probes
   hit /healthz and /readyz on the admin port, the grace period covers
   lifecycle.drain_secs + lifecycle.shutdown_deadline_secs plus a margin, no
   preStop hook, a native sidecar has restartPolicy Always, the TLS Secret is
   mounted without subPath, requests and limits are set, and the container is
   locked down (non-root, read-only root, no capabilities, seccomp).

Usage: check_manifests.py AUTHSIDECAR_BINARY MANIFEST_DIR WORK_DIR
"""

import pathlib
import re
import subprocess
import sys

import yaml

# Seconds between the end of the shutdown deadline and the kubelet's SIGKILL.
GRACE_MARGIN_SECS = 5
# Defaults of the config keys read here (crates/config/src/schema.rs).
DEFAULT_LISTEN = "0.0.0.0:8443"
DEFAULT_DRAIN_SECS = 5
DEFAULT_SHUTDOWN_DEADLINE_SECS = 20
CONFIG_KEY = "config.yaml"

problems = []


def problem(where, message):
    problems.append(f"{where}: {message}")


def port_of(address):
    return int(str(address).rsplit(":", 1)[1])


def load_all(directory):
    """(file, document) for every object in the .yaml files of `directory`."""
    for path in sorted(directory.glob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text()):
            if doc is not None:
                yield path, doc


def check_kustomization(directory):
    path = directory / "Kustomization"
    if not path.exists():
        problem(directory, "no Kustomization file")
        return
    listed = set(yaml.safe_load(path.read_text()).get("resources", []))
    present = {p.name for p in directory.glob("*.yaml")}
    for name in sorted(present - listed):
        problem(path, f"{name} is not listed in resources")
    for name in sorted(listed - present):
        problem(path, f"{name} is listed but does not exist")


def make_tls_pair(work):
    cert, key = work / "tls.crt", work / "tls.key"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
         "-nodes", "-days", "1", "-subj", "/CN=authsidecar.validate.invalid",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )
    return cert, key


def check_config(binary, where, text, work, tls_pair):
    """Runs check-config on `text` with only the two TLS paths replaced, so
    the binary reads the operator's text as written; returns the parsed
    config, or None when it does not pass."""
    name = str(where).replace("/", "_").replace(" ", "_")
    (work / "embedded").mkdir(exist_ok=True)
    (work / "embedded" / f"{name}.yaml").write_text(text)
    for key, replacement in zip(("cert_file", "key_file"), tls_pair):
        pattern = re.compile(rf"^(\s+{key}:)[ \t]*\S.*$", re.MULTILINE)
        text, count = pattern.subn(rf"\g<1> {replacement}", text)
        if count != 1:
            problem(where, f"expected one block-style tls.{key} line, found {count}")
            return None
    path = work / f"{name}.yaml"
    path.write_text(text)
    run = subprocess.run([binary, "check-config", "--config", str(path)],
                         capture_output=True, text=True)
    if run.returncode != 0:
        problem(where, f"check-config exited {run.returncode}:\n{run.stderr.strip()}")
        return None
    print(f"check-config ok: {where}")
    return yaml.safe_load(text)


def mounted_configs(pod, configmaps):
    """container name -> config, through `run --config PATH` and the volume
    mounted at PATH's directory."""
    volumes = {v["name"]: v for v in pod.get("volumes", [])}
    found = {}
    for container in pod.get("initContainers", []) + pod.get("containers", []):
        args = container.get("args", [])
        if "run" not in args or "--config" not in args:
            continue
        config_path = pathlib.PurePosixPath(args[args.index("--config") + 1])
        for mount in container.get("volumeMounts", []):
            if pathlib.PurePosixPath(mount["mountPath"]) != config_path.parent:
                continue
            source = volumes.get(mount["name"], {}).get("configMap", {}).get("name")
            if source in configmaps and config_path.name == CONFIG_KEY:
                found[container["name"]] = (container, configmaps[source])
    return found


def check_probe(where, container, kind, path, admin_port):
    probe = container.get(kind)
    if probe is None:
        problem(where, f"no {kind}")
        return
    get = probe.get("httpGet", {})
    ports = {p["name"]: p["containerPort"] for p in container.get("ports", [])}
    port = ports.get(get.get("port"), get.get("port"))
    if get.get("path") != path or port != admin_port:
        problem(where, f"{kind} must GET {path} on the admin port {admin_port}")


def check_pod(where, pod, container, config, in_init):
    ports = {p["name"]: p["containerPort"] for p in container.get("ports", [])}
    listen = port_of(config.get("listen", DEFAULT_LISTEN))
    if ports.get("https") != listen:
        problem(where, f"port https is {ports.get('https')}, the config listens on {listen}")
    admin = (config.get("admin") or {}).get("listen")
    if admin is None:
        problem(where, "admin.listen is not set, so there is nothing to probe")
        return
    admin_port = port_of(admin)
    if ports.get("admin") != admin_port:
        problem(where, f"port admin is {ports.get('admin')}, admin.listen is {admin}")
    if not str(admin).startswith(("0.0.0.0:", "[::]:")):
        problem(where, "admin.listen must bind all interfaces: the kubelet probes the pod IP")
    check_probe(where, container, "livenessProbe", "/healthz", admin_port)
    check_probe(where, container, "readinessProbe", "/readyz", admin_port)

    lifecycle = config.get("lifecycle") or {}
    needed = (lifecycle.get("drain_secs", DEFAULT_DRAIN_SECS)
              + lifecycle.get("shutdown_deadline_secs", DEFAULT_SHUTDOWN_DEADLINE_SECS)
              + GRACE_MARGIN_SECS)
    grace = pod.get("terminationGracePeriodSeconds", 30)
    if grace < needed:
        problem(where, f"terminationGracePeriodSeconds {grace} < drain + deadline + "
                       f"{GRACE_MARGIN_SECS} = {needed}")
    if "preStop" in (container.get("lifecycle") or {}):
        problem(where, "no preStop hook: the binary drains by itself on SIGTERM")
    if in_init and container.get("restartPolicy") != "Always":
        problem(where, "an init container sidecar needs restartPolicy: Always")

    volumes = {v["name"]: v for v in pod.get("volumes", [])}
    for mount in container.get("volumeMounts", []):
        if "secret" in volumes.get(mount["name"], {}) and "subPath" in mount:
            problem(where, f"volume {mount['name']}: a subPath mount never sees a renewal")
        if not mount.get("readOnly"):
            problem(where, f"volume {mount['name']} must be mounted readOnly")

    resources = container.get("resources", {})
    for part in ("requests", "limits"):
        for resource in ("cpu", "memory"):
            if resource not in resources.get(part, {}):
                problem(where, f"resources.{part}.{resource} is not set")

    security = container.get("securityContext", {})
    pod_security = pod.get("securityContext", {})
    expected = {
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": True,
        "runAsNonRoot": True,
    }
    for key, value in expected.items():
        if security.get(key, pod_security.get(key)) != value:
            problem(where, f"securityContext.{key} must be {str(value).lower()}")
    if security.get("capabilities", {}).get("drop") != ["ALL"]:
        problem(where, "securityContext.capabilities.drop must be [ALL]")
    seccomp = security.get("seccompProfile", pod_security.get("seccompProfile", {}))
    if seccomp.get("type") != "RuntimeDefault":
        problem(where, "seccompProfile.type must be RuntimeDefault")


def main():
    binary, manifests, work = sys.argv[1], pathlib.Path(sys.argv[2]), pathlib.Path(sys.argv[3])
    tls_pair = make_tls_pair(work)
    directories = sorted(p.parent for p in manifests.glob("*/Kustomization"))
    if not directories:
        problem(manifests, "no Kustomization found")
    for directory in directories:
        check_kustomization(directory)
        objects = list(load_all(directory))
        configmaps = {}
        for path, doc in objects:
            if doc.get("kind") == "ConfigMap" and CONFIG_KEY in doc.get("data", {}):
                where = f"{path} ConfigMap {doc['metadata']['name']}"
                config = check_config(binary, where, doc["data"][CONFIG_KEY], work, tls_pair)
                if config is not None:
                    configmaps[doc["metadata"]["name"]] = config
        checked = 0
        for path, doc in objects:
            if doc.get("kind") != "Deployment":
                continue
            pod = doc["spec"]["template"]["spec"]
            init_names = {c["name"] for c in pod.get("initContainers", [])}
            for name, (container, config) in mounted_configs(pod, configmaps).items():
                where = f"{path} container {name}"
                check_pod(where, pod, container, config, name in init_names)
                checked += 1
        if configmaps and checked == 0:
            problem(directory, "no Deployment runs authsidecar with a ConfigMap config")
        print(f"pod checks: {directory} ({checked} authsidecar containers)")
    for line in problems:
        print(f"FAIL {line}", file=sys.stderr)
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
