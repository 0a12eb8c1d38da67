#!/usr/bin/python3
"""The container image of deploy/docker, as far as it can be checked without a container
engine.

Usage: /usr/bin/python3 container_test.py DDNSWATCH_BINARY SOURCE_DIR BUILD_DIR

Not tested here, because no Docker engine runs on the test machines: the image build itself
(that the build stage compiles and packages, that the runtime stage's RUN steps succeed), the
contents of the debian:bookworm and debian:bookworm-slim base images (which packages they
already hold, their users, their /etc), Docker's handling of VOLUME, HEALTHCHECK, USER,
EXPOSE and --read-only, and a mounted config being reloaded inside a container.

What is tested:
1. The Dockerfile: a build stage FROM debian:bookworm that installs the toolchain and every
   library -dev package of scripts/install-deps.sh and runs cmake with tests off, Release, and
   cpack -G DEB; a runtime stage FROM debian:bookworm-slim with a numeric non-root USER, the
   state folder as a VOLUME owned by that user, EXPOSE 9877, a HEALTHCHECK on /healthz,
   ENTRYPOINT ["ddnswatch"], CMD run --config /etc/ddnswatch/ddnswatch.json, and the shipped
   default config (deploy/docker/ddnswatch.json) copied there; .dockerignore keeps the build
   trees out and the sources in.
2. Every package either stage installs exists in apt (apt-cache show, the machine's lists).
3. The .deb of this build tree (cpack -G DEB into a temporary folder): the runtime stage
   installs every package of its Depends, and nothing else but ca-certificates and curl.
4. The runtime stage's layout, run: the .deb installed with dpkg into a private root (as
   tests/package/package_test.sh does), the container's default config adapted to loopback
   and a state folder owned by UID/GID 10001; then the installed binary runs as that user
   (setpriv, no capabilities, no new privileges) as PID 1 of its own PID namespace, in a mount
   namespace where every file system is read-only except the state folder. /healthz answers,
   the state file is written, the Dockerfile's HEALTHCHECK command succeeds (and fails once
   the daemon stopped), SIGTERM stops it cleanly. Secrets: as that user, a config with
   "token_file" readable through the group (as Kubernetes mounts them) and one with
   "${CF_API_TOKEN}" pass `ddnswatch check`; a secret file only root can read does not.

Needs root (setpriv, unshare, mount), dpkg-dev and file (for cpack) and curl. Prints one line
per check and "N passed, M failed"; exits 1 if any check failed.
"""

import glob
import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True
from deploy_support import (Processes, Results, exec_form, free_port, http_get,  # noqa: E402
                            install_deps_packages, parse_dockerfile, user_ids, wait_until)

CONFIG_PATH = "/etc/ddnswatch/ddnswatch.json"
STATE_DIR = "/var/lib/ddnswatch"
PORT = 9877
# Packages the runtime stage may install beyond the .deb's Depends, and why: HTTPS to the
# provider APIs and IP echo services needs the CA bundle; the HEALTHCHECK runs curl.
RUNTIME_EXTRAS = {"ca-certificates", "curl"}
# -dev packages of install-deps.sh that only the tests and the sanitizer build use.
TEST_ONLY_DEV = {"libgtest-dev", "libgmock-dev", "libclang-rt-14-dev"}
BUILD_TOOLS = {"cmake", "ninja-build", "g++", "pkg-config", "dpkg-dev", "file"}

# Run inside `unshare --mount --pid --fork`: makes every file system read-only except the
# state folder (as a container with a read-only root filesystem and one volume), proves it,
# then becomes the daemon (PID 1, like a container's entrypoint).
READ_ONLY_WRAPPER = r"""
set -e
state=$1; probe_dir=$2; shift 2
mount --bind "$state" "$state"
awk '{print $2}' /proc/self/mounts | sort -u | while read -r mp; do
  mp=$(printf '%b' "$mp")
  case "$mp" in /proc|/proc/*|/sys|/sys/*|/dev|/dev/*|"$state") continue ;; esac
  mount -o remount,bind,ro "$mp" 2>/dev/null || true
done
for probe in "$probe_dir/.rw-probe" "/tmp/.ddnswatch-rw-probe.$$"; do
  if touch "$probe" 2>/dev/null; then
    rm -f "$probe"
    echo "read-only setup failed: $probe could be written" >&2
    exit 90
  fi
done
exec "$@"
"""


def run(argv, **kwargs):
    kwargs.setdefault("capture_output", True)
    kwargs.setdefault("text", True)
    kwargs.setdefault("timeout", 60)
    return subprocess.run(argv, **kwargs)


def as_user(uid, gid, argv):
    """argv as uid:gid without supplementary groups, capabilities or new privileges: what
    USER and the Kubernetes securityContext (drop ALL, no privilege escalation) give."""
    return ["setpriv", f"--reuid={uid}", f"--regid={gid}", "--clear-groups", "--no-new-privs",
            "--inh-caps=-all", "--bounding-set=-all", *argv]


def dockerignore_excludes(patterns, path):
    """Whether .dockerignore excludes path (relative to the context): the last pattern that
    matches the path or one of its parent folders decides; "!" re-includes."""
    def regex(pattern):
        out, i = "", 0
        while i < len(pattern):
            if pattern.startswith("**/", i):
                out, i = out + "(?:.*/)?", i + 3
            elif pattern.startswith("**", i):
                out, i = out + ".*", i + 2
            elif pattern[i] == "*":
                out, i = out + "[^/]*", i + 1
            elif pattern[i] == "?":
                out, i = out + "[^/]", i + 1
            else:
                out, i = out + re.escape(pattern[i]), i + 1
        return re.compile(out + r"\Z")

    parts = path.split("/")
    prefixes = ["/".join(parts[:n]) for n in range(1, len(parts) + 1)]
    excluded = False
    for raw in patterns:
        negate = raw.startswith("!")
        pattern = raw[1:] if negate else raw
        pattern = pattern.strip("/")
        r = regex(pattern)
        if any(r.match(p) for p in prefixes):
            excluded = not negate
    return excluded


def check_dockerfile(results, source):
    stages = parse_dockerfile(os.path.join(source, "deploy/docker/Dockerfile"))
    if not results.check("Dockerfile has two stages", len(stages) == 2,
                         f"stages: {[(s.base, s.name) for s in stages]}"):
        return None
    build, runtime = stages
    results.check("build stage is FROM debian:bookworm, named",
                  build.base.split("@")[0] == "debian:bookworm" and build.name, build.base)
    results.check("runtime stage is FROM debian:bookworm-slim",
                  runtime.base.split("@")[0] == "debian:bookworm-slim", runtime.base)

    text = build.run_text()
    cmake = [line for line in re.split(r"&&", text) if re.search(r"\bcmake\s+-S\b", line)]
    results.check("build stage configures with tests off and Release",
                  cmake and "-DDDNSWATCH_BUILD_TESTS=OFF" in cmake[0]
                  and "-DCMAKE_BUILD_TYPE=Release" in cmake[0], cmake)
    results.check("build stage packages with cpack -G DEB", re.search(r"cpack -G DEB", text))

    build_packages = set(build.apt_packages())
    wanted = {p for p in install_deps_packages(os.path.join(source, "scripts/install-deps.sh"))
              if p.endswith("-dev")} - TEST_ONLY_DEV
    wanted |= BUILD_TOOLS
    results.check("build stage installs the toolchain and every library of install-deps.sh",
                  wanted <= build_packages, f"missing: {sorted(wanted - build_packages)}")

    ids = user_ids(runtime)
    results.check("runtime USER is numeric and not root", ids and ids[0] != 0 and ids[1] != 0,
                  f"USER {runtime.last('USER')}")
    runtime_run = runtime.run_text()
    if ids:
        uid, gid = ids
        results.check("runtime stage creates that user and group",
                      re.search(rf"useradd\b[^&]*--uid {uid}\b[^&]*--gid {gid}\b", runtime_run)
                      and re.search(rf"groupadd\b[^&]*--gid {gid}\b", runtime_run),
                      runtime_run)
        results.check(f"{STATE_DIR} is created owned by the user, mode 0700",
                      re.search(rf"install -d -o {uid} -g {gid} -m 0700 {STATE_DIR}\b",
                                runtime_run), runtime_run)
    volumes = []
    for arg in runtime.all("VOLUME"):
        volumes += exec_form(arg) or arg.split()
    results.check(f"VOLUME {STATE_DIR}", STATE_DIR in volumes, volumes)
    expose = [w for arg in runtime.all("EXPOSE") for w in arg.split()]
    results.check(f"EXPOSE {PORT}", f"{PORT}" in expose or f"{PORT}/tcp" in expose, expose)
    results.check('ENTRYPOINT ["ddnswatch"]',
                  exec_form(runtime.last("ENTRYPOINT") or "") == ["ddnswatch"],
                  runtime.last("ENTRYPOINT"))
    results.check(f"CMD run --config {CONFIG_PATH}",
                  exec_form(runtime.last("CMD") or "") == ["run", "--config", CONFIG_PATH],
                  runtime.last("CMD"))
    copies = [a.split() for a in runtime.all("COPY")]
    results.check("the container's default config is copied to the config path",
                  ["deploy/docker/ddnswatch.json", CONFIG_PATH] in copies, copies)
    results.check("the runtime stage installs the .deb from the build stage",
                  any(c[0].startswith("--from=build") for c in copies)
                  and re.search(r"dpkg -i \S+\.deb", runtime_run), copies)

    healthcheck = runtime.last("HEALTHCHECK") or ""
    m = re.search(r"\bCMD\s+(.*)$", healthcheck)
    health_cmd = m.group(1) if m else None
    env = runtime.env()
    expanded = re.sub(r"\$\{?(\w+)\}?", lambda v: env.get(v.group(1), v.group(0)),
                      health_cmd or "")
    results.check("HEALTHCHECK asks /healthz on the exposed port",
                  health_cmd and f"127.0.0.1:{PORT}/healthz" in expanded, healthcheck)
    # The command's program must be in the image: curl comes from the runtime packages.
    program = shlex.split(health_cmd)[0] if health_cmd else None
    results.check("the HEALTHCHECK program is installed in the runtime stage",
                  program in runtime.apt_packages(), f"{program}")

    with open(os.path.join(source, "deploy/docker/ddnswatch.json")) as f:
        default = json.load(f)
    results.check("the container's default config listens on 0.0.0.0:9877 and keeps the "
                  "state in the volume",
                  default.get("listen") == f"0.0.0.0:{PORT}"
                  and default.get("state_dir") == STATE_DIR, default)

    ignore_path = os.path.join(source, ".dockerignore")
    patterns = []
    if os.path.exists(ignore_path):
        with open(ignore_path) as f:
            patterns = [line.strip() for line in f
                        if line.strip() and not line.startswith("#")]
    must_exclude = ["build/ddnswatch", "build-asan/CMakeCache.txt", "build-release/x"]
    must_include = ["CMakeLists.txt", "src/cli/CMakeLists.txt", "config/ddnswatch.json",
                    "deploy/docker/ddnswatch.json", "deploy/debian/postinst",
                    "deploy/systemd/ddnswatch.service", "docs/config.md", "README.md",
                    "dashboards/prometheus/alerts.yml", ".git/HEAD"]
    wrong = [p for p in must_exclude if not dockerignore_excludes(patterns, p)]
    wrong += [p for p in must_include if dockerignore_excludes(patterns, p)]
    results.check(".dockerignore keeps the build trees out and the sources in", not wrong,
                  f"wrongly treated: {wrong}")
    return {"build": build, "runtime": runtime, "ids": ids, "health_cmd": health_cmd,
            "default": default}


def apt_records(packages):
    """{name: set of names it provides} for the packages apt knows (one apt-cache call: each
    takes about a second)."""
    r = run(["apt-cache", "show", "--no-all-versions", *packages])
    records = {}
    for paragraph in r.stdout.split("\n\n"):
        fields = dict(re.findall(r"^([A-Za-z-]+): ?(.*)$", paragraph, re.M))
        if "Package" in fields:
            provides = {re.split(r"[\s(]", p.strip())[0]
                        for p in fields.get("Provides", "").split(",") if p.strip()}
            records[fields["Package"]] = provides
    return records


def check_apt(results, stages):
    wanted = {(stage_name, p) for stage_name in ("runtime", "build")
              for p in stages[stage_name].apt_packages()}
    records = apt_records(sorted({p for _, p in wanted}))
    missing = sorted(f"{stage_name}: {p}" for stage_name, p in wanted if p not in records)
    results.check("every package the Dockerfile installs exists in apt (a real package, "
                  "not a virtual one)", not missing,
                  [f"not found by apt-cache show: {m} (run apt-get update first?)"
                   for m in missing])
    return records


def depends_of(deb):
    r = run(["dpkg-deb", "-f", deb, "Depends"])
    groups = []
    for group in r.stdout.strip().split(","):
        names = []
        for alternative in group.split("|"):
            m = re.match(r"\s*([a-z0-9][a-z0-9+.-]+)", alternative)
            if m:
                names.append(m.group(1))
        if names:
            groups.append(names)
    return groups


def check_layout(results, stages, records, binary, source, build_dir, work):
    # The .deb of this build tree.
    pkg = os.path.join(work, "pkg")
    r = run(["cpack", "-G", "DEB", "-B", pkg], cwd=build_dir, timeout=240)
    debs = glob.glob(os.path.join(pkg, "ddnswatch_*.deb"))
    if not results.check("cpack -G DEB builds the .deb", r.returncode == 0 and len(debs) == 1,
                         (r.stdout + r.stderr)[-3000:]):
        return
    deb = debs[0]

    # A dependency is met by a package of that name or one that provides it
    # (libspdlog1.10 provides libspdlog1.10-fmt9).
    runtime_packages = set(stages["runtime"].apt_packages())
    satisfied = set(runtime_packages)
    for package in runtime_packages:
        satisfied |= records.get(package, set())
    groups = depends_of(deb)
    uncovered = [" | ".join(g) for g in groups if not set(g) & satisfied]
    results.check("the runtime stage installs every Depends of the .deb",
                  groups and not uncovered, f"not installed: {uncovered}; Depends: {groups}")
    allowed = {n for g in groups for n in g} | RUNTIME_EXTRAS
    allowed |= {p for p in runtime_packages if records.get(p, set()) & allowed}
    results.check("the runtime stage installs only the Depends, ca-certificates and curl",
                  runtime_packages <= allowed, f"extra: {sorted(runtime_packages - allowed)}")

    # The runtime stage's RUN and COPY, into a private root: dpkg -i (the postinst puts the
    # packaged config in place), the container's default config over it, the state folder.
    root = os.path.join(work, "root")
    admin = os.path.join(root, "var/lib/dpkg")
    for sub in ("info", "updates", "triggers"):
        os.makedirs(os.path.join(admin, sub))
    for name in ("status", "available"):
        open(os.path.join(admin, name), "w").close()
    r = run(["dpkg", f"--instdir={root}", f"--admindir={admin}", "--force-script-chrootless",
             "--force-depends", "--log=/dev/null", "-i", deb])
    installed = os.path.join(root, "usr/bin/ddnswatch")
    if not results.check("dpkg -i installs the .deb into a private root",
                         r.returncode == 0 and os.access(installed, os.X_OK),
                         (r.stdout + r.stderr)[-3000:]):
        return
    mine = run([binary, "version"]).stdout.strip()
    theirs = run([installed, "version"]).stdout.strip()
    results.check("the packaged binary is this build's", mine == theirs and theirs,
                  f"build: {mine!r}, packaged: {theirs!r}")
    r = run([installed, "check", "--config", os.path.join(source, "deploy/docker/ddnswatch.json")])
    results.check("ddnswatch check accepts the container's default config",
                  r.returncode == 0, r.stdout + r.stderr)

    if not results.check("a numeric user to run the layout as", stages["ids"]):
        return
    uid, gid = stages["ids"]
    port = free_port()
    state = os.path.join(root, STATE_DIR.lstrip("/"))
    os.makedirs(state, mode=0o700)
    os.chown(state, uid, gid)
    config = os.path.join(root, CONFIG_PATH.lstrip("/"))
    adapted = dict(stages["default"], listen=f"127.0.0.1:{port}", state_dir=state)
    with open(config, "w") as f:
        json.dump(adapted, f)
    os.chmod(config, 0o644)
    # The user must get to the files through the temporary folders (mkdtemp makes them 0700).
    for folder in (work, root):
        os.chmod(folder, 0o755)

    # Secrets as the user: group-readable file (Kubernetes: fsGroup and mode 0440), env
    # reference, and a root-only file that must be refused.
    etc = os.path.dirname(config)
    secrets = os.path.join(etc, "secrets")
    os.makedirs(secrets)
    token = os.path.join(secrets, "cloudflare-token")
    with open(token, "w") as f:
        f.write("dummy-token-for-tests\n")
    os.chown(token, 0, gid)
    os.chmod(token, 0o440)
    record = {"name": "home.example.com", "type": "A",
              "provider": {"kind": "cloudflare", "zone": "example.com"}}

    def secret_config(name, provider_secret):
        doc = dict(adapted)
        doc["records"] = [dict(record, provider=dict(record["provider"], **provider_secret))]
        path = os.path.join(etc, name)
        with open(path, "w") as f:
            json.dump(doc, f)
        return path

    env = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}
    from_file = secret_config("file.json", {"token_file": "secrets/cloudflare-token"})
    r = run(as_user(uid, gid, [installed, "check", "--config", from_file]), env=env)
    results.check("as the user, a token_file readable through the group passes check",
                  r.returncode == 0, r.stdout + r.stderr)
    r = run(as_user(uid, gid, [installed, "check", "--config",
                               secret_config("env.json", {"token": "${CF_API_TOKEN}"})]),
            env=dict(env, CF_API_TOKEN="dummy-token-for-tests"))
    results.check('as the user, "${CF_API_TOKEN}" from the environment passes check',
                  r.returncode == 0, r.stdout + r.stderr)
    os.chmod(token, 0o400)
    r = run(as_user(uid, gid, [installed, "check", "--config", from_file]), env=env)
    results.check("as the user, a secret only root can read is refused",
                  r.returncode == 1 and "token_file" in r.stdout + r.stderr
                  and "dummy-token" not in r.stdout + r.stderr, r.stdout + r.stderr)

    # The daemon: PID 1, the user, read-only everywhere but the state folder.
    procs = Processes()
    log = os.path.join(work, "daemon.log")
    argv = ["unshare", "--mount", "--propagation", "private", "--pid", "--fork",
            "--kill-child=SIGKILL", "--mount-proc",
            "sh", "-c", READ_ONLY_WRAPPER, "wrapper", state, work,
            *as_user(uid, gid, [installed, "run", "--config", config])]
    health_env = dict(env, DDNSWATCH_HEALTH_URL=f"http://127.0.0.1:{port}/healthz")
    healthcheck = as_user(uid, gid, ["/bin/sh", "-c", stages["health_cmd"]])
    try:
        outer = procs.start("unshare + ddnswatch", argv, log, env=env)
        healthy = wait_until(
            lambda: outer.poll() is not None
            or http_get(f"http://127.0.0.1:{port}/healthz")[0] == 200, 10.0)
        ok = healthy and outer.poll() is None
        if not results.check("as the user, read-only but the state folder: /healthz answers",
                             ok, procs.tail(40)):
            return
        state_file = os.path.join(state, "state.json")
        written = wait_until(lambda: os.path.exists(state_file), 5.0)
        st = os.stat(state_file) if written else None
        results.check("the state file is written, owned by the user",
                      st and st.st_uid == uid and st.st_gid == gid, procs.tail(40))
        status, body = http_get(f"http://127.0.0.1:{port}/readyz")
        results.check("/readyz answers 200", status == 200, f"{status} {body}")
        r = run(healthcheck, env=health_env, timeout=20)
        results.check("the Dockerfile's HEALTHCHECK command succeeds", r.returncode == 0,
                      r.stdout + r.stderr)

        # SIGTERM to the daemon (PID 1 inside): it must stop cleanly.
        children = []
        for task in glob.glob(f"/proc/{outer.pid}/task/*/children"):
            with open(task) as f:
                children += [int(c) for c in f.read().split()]
        stopped = False
        if children:
            os.kill(children[0], signal.SIGTERM)
            try:
                stopped = outer.wait(timeout=10) == 0
            except subprocess.TimeoutExpired:
                stopped = False
        results.check("SIGTERM to the daemon as PID 1 stops it with status 0", stopped,
                      [f"children of unshare: {children}, exit: {outer.poll()}"]
                      + procs.tail(40))
        with open(log, errors="replace") as f:
            text = f.read()
        complaints = [line for line in text.splitlines()
                      if "Read-only file system" in line or "Permission denied" in line]
        results.check("the daemon never tried to write outside the state folder", not complaints,
                      complaints)
        leftovers = sorted(os.listdir(state))
        results.check("the state folder holds only state.json", leftovers == ["state.json"],
                      leftovers)
        r = run(healthcheck, env=health_env, timeout=20)
        results.check("the HEALTHCHECK command fails once the daemon stopped",
                      r.returncode == 1, f"exit {r.returncode}")
    finally:
        procs.stop_all()


def main():
    if len(sys.argv) != 4:
        print(__doc__.splitlines()[3], file=sys.stderr)
        return 2
    binary, source, build_dir = sys.argv[1:]
    results = Results()
    if os.geteuid() != 0:
        results.check("runs as root (setpriv, unshare, mount)", False)
        return results.summary()
    start = time.monotonic()
    stages = check_dockerfile(results, source)
    if stages:
        records = check_apt(results, stages)
        work = tempfile.mkdtemp(prefix="ddnswatch-container.")
        try:
            check_layout(results, stages, records, binary, source, build_dir, work)
        finally:
            shutil.rmtree(work, ignore_errors=True)
    print(f"took {time.monotonic() - start:.1f} s")
    return results.summary()


if __name__ == "__main__":
    sys.exit(main())
