"""Shared by the deploy tests: results, processes stopped by PID, loopback ports, HTTP, and a
reader for deploy/docker/Dockerfile. Standard library only."""

import json
import re
import shlex
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request


class Results:
    """One line per check, "N passed, M failed" at the end (as tests/schema does)."""

    def __init__(self):
        self.passed = 0
        self.failed = 0

    def check(self, name, ok, details=()):
        if ok:
            self.passed += 1
            print(f"{name}: OK")
        else:
            self.failed += 1
            print(f"{name}: FAILED")
            for line in details if isinstance(details, (list, tuple)) else [details]:
                for part in str(line).splitlines():
                    print(f"    {part}")
        return ok

    def summary(self):
        print(f"{self.passed} passed, {self.failed} failed")
        return 1 if self.failed or not self.passed else 0


def free_port():
    """A port free on 127.0.0.1 now. The window until the server binds it is short; the
    servers are started right after."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http_get(url, timeout=2.0):
    """(status, body) or (None, error text); never raises."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return r.status, r.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode("utf-8", "replace")
    except (OSError, ValueError) as e:
        return None, str(e)


def http_json(url, timeout=2.0):
    status, body = http_get(url, timeout)
    if status != 200:
        return None
    try:
        return json.loads(body)
    except ValueError:
        return None


def wait_until(predicate, timeout, step=0.1):
    """Polls predicate until it returns something true or timeout seconds pass; returns the
    last value."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() >= deadline:
            return value
        time.sleep(step)


class Processes:
    """Started processes, each with its output in a log file; stop_all() ends them by PID
    (SIGTERM, then SIGKILL after a deadline)."""

    def __init__(self):
        self.procs = []  # (name, Popen, log path)

    def start(self, name, argv, log_path, env=None, **kwargs):
        log = open(log_path, "wb")
        try:
            p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log,
                                 stderr=subprocess.STDOUT, env=env, **kwargs)
        finally:
            log.close()
        self.procs.append((name, p, log_path))
        return p

    def stop(self, p, grace=5.0):
        if p.poll() is None:
            try:
                p.send_signal(signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                p.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        return p.returncode

    def stop_all(self, grace=5.0):
        # SIGTERM to all first so they stop in parallel, then wait with one deadline.
        for _, p, _ in self.procs:
            if p.poll() is None:
                try:
                    p.send_signal(signal.SIGTERM)
                except ProcessLookupError:
                    pass
        deadline = time.monotonic() + grace
        for _, p, _ in self.procs:
            try:
                p.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()

    def tail(self, lines=20):
        out = []
        for name, p, path in self.procs:
            try:
                with open(path, "r", errors="replace") as f:
                    text = f.read().splitlines()[-lines:]
            except OSError:
                text = []
            out.append(f"--- {name} (pid {p.pid}, exit {p.poll()}) ---")
            out += text
        return out


# --- deploy/docker/Dockerfile -------------------------------------------------------------

class Stage:
    def __init__(self, base, name):
        self.base = base          # image of FROM
        self.name = name          # AS name, or None
        self.instructions = []    # (KEYWORD, argument text)

    def all(self, keyword):
        return [a for k, a in self.instructions if k == keyword]

    def last(self, keyword):
        found = self.all(keyword)
        return found[-1] if found else None

    def run_text(self):
        return "\n".join(self.all("RUN"))

    def env(self):
        """ENV KEY=VALUE pairs (the forms this Dockerfile uses)."""
        values = {}
        for arg in self.all("ENV"):
            for token in shlex.split(arg):
                if "=" in token:
                    key, value = token.split("=", 1)
                    values[key] = value
        return values

    def apt_packages(self):
        """Package names given to `apt-get install` in this stage's RUN instructions."""
        packages = []
        for run in self.all("RUN"):
            for command in re.split(r"&&|\|\||;|\|", run):
                words = shlex.split(command)
                words = [w for w in words if not re.match(r"^[A-Z_]+=", w)]
                if len(words) >= 2 and words[0] in ("apt-get", "apt") and "install" in words:
                    rest = words[words.index("install") + 1:]
                    packages += [w for w in rest if not w.startswith("-")]
        return packages


def parse_dockerfile(path):
    """Stages of a Dockerfile: comments dropped, continuation lines joined."""
    with open(path) as f:
        raw = f.read().splitlines()
    logical, current = [], ""
    for line in raw:
        stripped = line.strip()
        if stripped.startswith("#") or (not stripped and not current):
            continue
        if stripped.endswith("\\"):
            current += stripped[:-1] + " "
            continue
        current += stripped
        if current.strip():
            logical.append(current.strip())
        current = ""
    if current.strip():
        logical.append(current.strip())

    stages = []
    for line in logical:
        keyword, _, arg = line.partition(" ")
        keyword = keyword.upper()
        arg = arg.strip()
        if keyword == "FROM":
            words = arg.split()
            words = [w for w in words if not w.startswith("--")]
            name = words[2] if len(words) >= 3 and words[1].upper() == "AS" else None
            stages.append(Stage(words[0], name))
        elif stages:
            stages[-1].instructions.append((keyword, arg))
    return stages


def exec_form(arg):
    """The JSON array of an exec-form ENTRYPOINT/CMD, or None for the shell form."""
    try:
        value = json.loads(arg)
    except ValueError:
        return None
    return value if isinstance(value, list) else None


def user_ids(stage):
    """(uid, gid) of the stage's last USER as integers, or None when not numeric."""
    user = stage.last("USER")
    if not user:
        return None
    m = re.fullmatch(r"(\d+)(?::(\d+))?", user.strip())
    if not m:
        return None
    uid = int(m.group(1))
    return uid, int(m.group(2)) if m.group(2) else uid


def install_deps_packages(path):
    """The packages=(...) list of scripts/install-deps.sh."""
    with open(path) as f:
        text = f.read()
    m = re.search(r"^packages=\((.*?)^\)", text, re.S | re.M)
    if not m:
        return []
    words = []
    for line in m.group(1).splitlines():
        words += line.split("#", 1)[0].split()
    return words

