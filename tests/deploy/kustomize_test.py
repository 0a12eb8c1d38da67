#!/usr/bin/python3
"""The Kubernetes manifests of deploy/kubernetes, rendered by `kubectl kustomize`.

Usage: /usr/bin/python3 kustomize_test.py DDNSWATCH_BINARY SOURCE_DIR

Renders the base and every overlay under deploy/kubernetes/overlays (at least two regions)
with the kubectl on PATH (Debian 12's kubernetes-client is kubectl 1.20, whose kustomize is
v2-era: the files stick to what it understands) and checks the objects: one Deployment with
one replica, a Service and the config map per region; the probe_region label on every object,
selector and pod; non-root, read-only root filesystem, no privilege escalation, all
capabilities dropped, and the UID of the image (deploy/docker/Dockerfile); liveness on
/healthz and readiness on /readyz; the prometheus.io/* annotations; the config folder mounted
whole (no subPath) from the region's config map, the secrets under /etc/ddnswatch/secrets or
in the environment, optional; the state folder on an emptyDir or a PersistentVolumeClaim; the
region's config accepted by `ddnswatch check`, and different per region.

Not tested: applying the objects to a cluster (no API server here), the kubelet's updates of
the mounted folder, the container image itself (see container_test.py).
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile

sys.dont_write_bytecode = True
import yaml  # noqa: E402  (python3-yaml)

from deploy_support import Results, exec_form, parse_dockerfile, user_ids  # noqa: E402

CONFIG_DIR = "/etc/ddnswatch"
CONFIG_FILE = "ddnswatch.json"
STATE_DIR = "/var/lib/ddnswatch"
SECRETS_DIR = "/etc/ddnswatch/secrets"


def render(kubectl, folder):
    r = subprocess.run([kubectl, "kustomize", folder], capture_output=True, text=True,
                       timeout=60)
    if r.returncode != 0:
        return None, r.stderr
    return [d for d in yaml.safe_load_all(r.stdout) if d], r.stderr


def by_kind(objects, kind):
    return [o for o in objects if o.get("kind") == kind]


def port_number(container, port):
    """A probe's port (number or name) as a number."""
    if isinstance(port, int):
        return port
    for p in container.get("ports", []):
        if p.get("name") == port:
            return p.get("containerPort")
    return None


def check_rendering(results, binary, name, objects, region, image, work):
    """Checks of one rendered folder; region is None for the base. Returns the config."""
    where = f"[{name}]"
    deployments = by_kind(objects, "Deployment")
    services = by_kind(objects, "Service")
    config_maps = by_kind(objects, "ConfigMap")
    kinds = sorted(o.get("kind") for o in objects)
    if not results.check(f"{where} renders a Deployment, a Service and a ConfigMap",
                         len(deployments) == 1 and len(services) == 1 and len(config_maps) == 1,
                         f"kinds: {kinds}"):
        return None
    deployment, service, config_map = deployments[0], services[0], config_maps[0]
    spec = deployment["spec"]
    template = spec["template"]
    pod = template["spec"]
    containers = pod.get("containers", [])
    if not results.check(f"{where} one container", len(containers) == 1, containers):
        return None
    container = containers[0]

    if region:
        suffix = f"-{region}"
        unnamed = [f"{o['kind']}/{o['metadata']['name']}" for o in objects
                   if not o["metadata"]["name"].endswith(suffix)]
        results.check(f"{where} every name ends with {suffix}", not unnamed, unnamed)
        unlabelled = [f"{o['kind']}/{o['metadata']['name']}" for o in objects
                      if (o["metadata"].get("labels") or {}).get("probe_region") != region]
        results.check(f"{where} every object has probe_region={region}", not unlabelled,
                      unlabelled)
        for what, labels in (("the pods", template["metadata"].get("labels") or {}),
                             ("the Deployment's selector", spec["selector"]["matchLabels"]),
                             ("the Service's selector", service["spec"].get("selector") or {})):
            results.check(f"{where} {what}: probe_region={region}",
                          labels.get("probe_region") == region, labels)

    selector = spec["selector"]["matchLabels"]
    pod_labels = template["metadata"].get("labels") or {}
    results.check(f"{where} the selectors match the pods",
                  selector.items() <= pod_labels.items()
                  and (service["spec"].get("selector") or {}) == selector,
                  f"deployment {selector}, service {service['spec'].get('selector')}, "
                  f"pod {pod_labels}")
    results.check(f"{where} one replica, replaced (Recreate) rather than rolled",
                  spec.get("replicas") == 1
                  and (spec.get("strategy") or {}).get("type") == "Recreate",
                  f"replicas {spec.get('replicas')}, strategy {spec.get('strategy')}")

    # Security: the pod's and the container's contexts together.
    pod_sc = pod.get("securityContext") or {}
    sc = container.get("securityContext") or {}
    effective = dict(pod_sc, **sc)
    uid, gid = image["ids"]
    results.check(f"{where} runs as the image's non-root user {uid}:{gid}",
                  effective.get("runAsNonRoot") is True and effective.get("runAsUser") == uid
                  and effective.get("runAsGroup") == gid, effective)
    results.check(f"{where} read-only root filesystem, no privilege escalation, no "
                  "capabilities",
                  sc.get("readOnlyRootFilesystem") is True
                  and sc.get("allowPrivilegeEscalation") is False
                  and (sc.get("capabilities") or {}).get("drop") == ["ALL"], sc)
    results.check(f"{where} fsGroup lets the user write the state volume and read secrets",
                  pod_sc.get("fsGroup") == gid, pod_sc)

    # The image's entrypoint with the container's args is the image's command.
    results.check(f"{where} the container runs the image's command",
                  "command" not in container and container.get("args") == image["cmd"],
                  f"command {container.get('command')}, args {container.get('args')}")

    ports = container.get("ports", [])
    results.check(f"{where} container port {image['port']}",
                  [p.get("containerPort") for p in ports] == [image["port"]], ports)
    for probe, path in (("livenessProbe", "/healthz"), ("readinessProbe", "/readyz")):
        get = (container.get(probe) or {}).get("httpGet") or {}
        results.check(f"{where} {probe} is GET {path} on the container port",
                      get.get("path") == path
                      and port_number(container, get.get("port")) == image["port"],
                      container.get(probe))
    service_ports = service["spec"].get("ports", [])
    results.check(f"{where} the Service forwards to the container port",
                  len(service_ports) == 1
                  and port_number(container, service_ports[0].get("targetPort")) == image["port"],
                  service_ports)

    annotations = template["metadata"].get("annotations") or {}
    results.check(f"{where} Prometheus scrape annotations on the pods",
                  annotations.get("prometheus.io/scrape") == "true"
                  and annotations.get("prometheus.io/port") == str(image["port"])
                  and annotations.get("prometheus.io/path") == "/metrics", annotations)

    # Volumes: the config folder whole, from this rendering's config map; the state folder.
    volumes = {v["name"]: v for v in pod.get("volumes", [])}
    mounts = {m["mountPath"]: m for m in container.get("volumeMounts", [])}
    with_sub_path = [m for m in mounts.values() if "subPath" in m or "subPathExpr" in m]
    results.check(f"{where} no subPath mounts (they are never updated)", not with_sub_path,
                  with_sub_path)
    config_mount = mounts.get(CONFIG_DIR)
    config_volume = volumes.get(config_mount["name"]) if config_mount else None
    sources = []
    if config_volume and "configMap" in config_volume:
        sources = [{"configMap": config_volume["configMap"]}]
    elif config_volume and "projected" in config_volume:
        sources = config_volume["projected"].get("sources", [])
    map_names = [s["configMap"].get("name") for s in sources if "configMap" in s]
    results.check(f"{where} {CONFIG_DIR} is mounted read-only from the rendered config map",
                  config_mount is not None and config_mount.get("readOnly") is True
                  and map_names == [config_map["metadata"]["name"]],
                  f"mount {config_mount}, volume {config_volume}, "
                  f"config map {config_map['metadata']['name']}")

    # Secrets: files under secrets/ of the config folder, or environment variables; either way
    # optional, so that a region without secrets starts.
    secret_files = []
    for s in sources:
        if "secret" in s:
            secret = s["secret"]
            secret_files += [(secret.get("optional"), os.path.join(CONFIG_DIR, i["path"]))
                             for i in secret.get("items", [])]
    for m in mounts.values():
        v = volumes.get(m["name"]) or {}
        if "secret" in v:
            secret_files.append((v["secret"].get("optional"), m["mountPath"]))
    secret_env = [(e["valueFrom"]["secretKeyRef"].get("optional"), e["name"])
                  for e in container.get("env", [])
                  if "secretKeyRef" in (e.get("valueFrom") or {})]
    results.check(f"{where} secrets come from a Secret, as files in {SECRETS_DIR} or as "
                  "environment variables, optional",
                  (secret_files or secret_env)
                  and all(path.startswith(SECRETS_DIR + "/") for _, path in secret_files)
                  and all(optional is True for optional, _ in secret_files + secret_env),
                  f"files {secret_files}, env {secret_env}")
    if sources and any("secret" in s for s in sources):
        mode = config_volume["projected"].get("defaultMode")
        results.check(f"{where} mounted secrets are not world-readable (mode 0440)",
                      mode is not None and mode & 0o007 == 0, f"defaultMode {mode}")

    state_mount = mounts.get(STATE_DIR)
    state_volume = volumes.get(state_mount["name"]) if state_mount else {}
    results.check(f"{where} {STATE_DIR} is an emptyDir or a PersistentVolumeClaim",
                  state_mount is not None and not state_mount.get("readOnly")
                  and ("emptyDir" in state_volume or "persistentVolumeClaim" in state_volume),
                  f"mount {state_mount}, volume {state_volume}")
    writable = [p for p, m in mounts.items() if not m.get("readOnly") and p != STATE_DIR]
    results.check(f"{where} nothing but {STATE_DIR} is mounted writable", not writable,
                  writable)

    # The config itself.
    text = (config_map.get("data") or {}).get(CONFIG_FILE)
    if not results.check(f"{where} the config map holds {CONFIG_FILE}", text is not None,
                         sorted((config_map.get("data") or {}).keys())):
        return None
    try:
        config = json.loads(text)
    except ValueError as e:
        results.check(f"{where} {CONFIG_FILE} is JSON", False, str(e))
        return None
    results.check(f"{where} the config listens on 0.0.0.0:{image['port']} and keeps the "
                  f"state in {STATE_DIR}",
                  config.get("listen") == f"0.0.0.0:{image['port']}"
                  and config.get("state_dir") == STATE_DIR,
                  f"listen {config.get('listen')}, state_dir {config.get('state_dir')}")
    folder = os.path.join(work, name.replace("/", "_"))
    os.makedirs(folder)
    path = os.path.join(folder, CONFIG_FILE)
    with open(path, "w") as f:
        f.write(text)
    r = subprocess.run([binary, "check", "--config", path], capture_output=True, text=True,
                       timeout=60)
    results.check(f"{where} ddnswatch check accepts the config", r.returncode == 0,
                  r.stdout + r.stderr)
    return config


def main():
    if len(sys.argv) != 3:
        print(__doc__.splitlines()[2], file=sys.stderr)
        return 2
    binary, source = sys.argv[1], sys.argv[2]
    results = Results()
    kubectl = shutil.which("kubectl")
    if not results.check("kubectl is installed", kubectl,
                         "install Debian's kubernetes-client (kubectl 1.20)"):
        return results.summary()
    version = subprocess.run([kubectl, "version", "--client"], capture_output=True, text=True,
                             timeout=30)
    first_line = ((version.stdout or version.stderr).splitlines() or ["?"])[0]
    print(f"using {kubectl}: {first_line}")

    # What the pods must agree with: the image's user, port and command.
    stages = parse_dockerfile(os.path.join(source, "deploy/docker/Dockerfile"))
    runtime = stages[-1]
    expose = [w for a in runtime.all("EXPOSE") for w in a.split()]
    image = {"ids": user_ids(runtime), "cmd": exec_form(runtime.last("CMD") or ""),
             "port": int(expose[0].split("/")[0]) if expose else None}
    if not results.check("the Dockerfile gives a numeric user, a port and a command",
                         image["ids"] and image["port"] and image["cmd"], image):
        return results.summary()

    root = os.path.join(source, "deploy/kubernetes")
    overlays_dir = os.path.join(root, "overlays")
    regions = sorted(d for d in os.listdir(overlays_dir)
                     if os.path.exists(os.path.join(overlays_dir, d, "kustomization.yaml")))
    results.check("at least two regional overlays", len(regions) >= 2, regions)

    work = tempfile.mkdtemp(prefix="ddnswatch-kustomize.")
    try:
        rendered = {}
        for name, folder, region in ([("base", os.path.join(root, "base"), None)]
                                     + [(f"overlays/{r}", os.path.join(overlays_dir, r), r)
                                        for r in regions]):
            objects, stderr = render(kubectl, folder)
            if not results.check(f"[{name}] kubectl kustomize renders it", objects is not None,
                                 stderr):
                continue
            config = check_rendering(results, binary, name, objects, region, image, work)
            if region:
                rendered[region] = (objects, config)

        # Regions differ in what matters: names, label, and config (resolvers asked).
        names = [tuple(sorted(o["metadata"]["name"] for o in objs))
                 for objs, _ in rendered.values()]
        results.check("regions have distinct object names (they can share a namespace)",
                      len(set(names)) == len(names), names)
        configs = [json.dumps(c, sort_keys=True) for _, c in rendered.values() if c]
        results.check("each region has its own config", len(set(configs)) == len(rendered),
                      [c[:200] for c in configs])
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return results.summary()


if __name__ == "__main__":
    sys.exit(main())
