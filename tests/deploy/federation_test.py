#!/usr/bin/python3
"""Prometheus federation across regions (DESIGN.md section 8) with deploy/prometheus.

Usage: /usr/bin/python3 federation_test.py DDNSWATCH_BINARY SOURCE_DIR

On loopback, with ports chosen now: two ddnswatch daemons (regions eu-west and us-east,
minimal configs), one Prometheus per region loaded from deploy/prometheus/region.yml and a
global Prometheus from deploy/prometheus/global.yml, all scraping every second. Passes when
the global Prometheus answers `count by (probe_region) (ddnswatch_build_info)` with both
regions, the federated series kept the regions' own labels (honor_labels) and nothing but
ddnswatch_* came across (match[]).

What the shipped files get changed for the run: the intervals (1 s), the global file's
targets (the two regional ports), and the Kubernetes discovery of region.yml, which Debian's
prometheus package is built without: it is replaced by static targets carrying the labels
that discovery gives a pod (__meta_kubernetes_*, the prometheus.io/* annotations), so the
file's relabelling rules run as shipped. The region's name comes from PROBE_REGION through
--enable-feature=expand-external-labels, as region.yml says. Not tested: the discovery
itself, and Prometheus inside Kubernetes.
"""

import copy
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.parse

sys.dont_write_bytecode = True
import yaml  # noqa: E402  (python3-yaml)

from deploy_support import (Processes, Results, free_port, http_get, http_json,  # noqa: E402
                            wait_until)

REGIONS = ["eu-west", "us-east"]
MATCH = '{__name__=~"ddnswatch_.*"}'
# The first scrape of a Prometheus 2.x comes about 5.5 s after it starts; two hops (region,
# then global) and the daemons' start fit well inside this.
GLOBAL_DEADLINE = 30.0


def find_prometheus():
    for candidate in ("/usr/bin/prometheus", shutil.which("prometheus")):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    return None


def scrape_job(config, name):
    for job in config.get("scrape_configs", []):
        if job.get("job_name") == name:
            return job
    return None


def regional_config(shipped, region, ddnswatch_port):
    """region.yml for this run: 1 s intervals, and static targets in place of the pod
    discovery, labelled as the discovery would label the ddnswatch pod (plus a pod that must
    be dropped)."""
    config = copy.deepcopy(shipped)
    config["global"]["scrape_interval"] = "1s"
    config["global"]["evaluation_interval"] = "1s"
    job = scrape_job(config, "ddnswatch")
    job.pop("kubernetes_sd_configs", None)
    pod = {
        "__meta_kubernetes_namespace": "ddnswatch",
        "__meta_kubernetes_pod_name": f"ddnswatch-{region}-0",
        "__meta_kubernetes_pod_label_app_kubernetes_io_name": "ddnswatch",
        "__meta_kubernetes_pod_label_probe_region": region,
        "__meta_kubernetes_pod_annotation_prometheus_io_scrape": "true",
        # The annotation, not the discovered address's port, must decide where to scrape.
        "__meta_kubernetes_pod_annotation_prometheus_io_port": str(ddnswatch_port),
        "__meta_kubernetes_pod_annotation_prometheus_io_path": "/metrics",
    }
    other = {
        "__meta_kubernetes_namespace": "ddnswatch",
        "__meta_kubernetes_pod_name": "something-else-0",
        "__meta_kubernetes_pod_label_app_kubernetes_io_name": "something-else",
        "__meta_kubernetes_pod_annotation_prometheus_io_scrape": "true",
    }
    job["static_configs"] = [
        {"targets": ["127.0.0.1:1"], "labels": pod},
        {"targets": ["127.0.0.1:2"], "labels": other},
    ]
    return config


def global_config(shipped, regional_ports):
    config = copy.deepcopy(shipped)
    config["global"]["scrape_interval"] = "1s"
    config["global"]["scrape_timeout"] = "1s"
    config["global"]["evaluation_interval"] = "1s"
    job = scrape_job(config, "federate")
    job["static_configs"] = [{"targets": [f"127.0.0.1:{p}"]} for p in regional_ports]
    return config


def query(port, expr):
    url = f"http://127.0.0.1:{port}/api/v1/query?" + urllib.parse.urlencode({"query": expr})
    doc = http_json(url)
    if not doc or doc.get("status") != "success":
        return None
    return doc["data"]["result"]


def main():
    if len(sys.argv) != 3:
        print(__doc__.splitlines()[2], file=sys.stderr)
        return 2
    binary, source = sys.argv[1], sys.argv[2]
    results = Results()
    t_start = time.monotonic()

    with open(os.path.join(source, "deploy/prometheus/region.yml")) as f:
        region_yml = yaml.safe_load(f)
    with open(os.path.join(source, "deploy/prometheus/global.yml")) as f:
        global_yml = yaml.safe_load(f)

    # The shipped files say what the design asks for.
    labels = (region_yml.get("global") or {}).get("external_labels") or {}
    results.check("region.yml sets the probe_region external label", "probe_region" in labels,
                  f"external_labels: {labels}")
    ddnswatch_job = scrape_job(region_yml, "ddnswatch")
    results.check("region.yml has a ddnswatch job", ddnswatch_job is not None)
    federate = scrape_job(global_yml, "federate") or {}
    results.check("global.yml federates /federate with honor_labels and match[] ddnswatch_*",
                  federate.get("honor_labels") is True
                  and federate.get("metrics_path") == "/federate"
                  and MATCH in (federate.get("params") or {}).get("match[]", []),
                  f"federate job: {federate}")
    prometheus = find_prometheus()
    results.check("prometheus is installed", prometheus is not None,
                  "install the Debian package prometheus (scripts/install-deps.sh)")
    if results.failed:
        return results.summary()
    promtool = os.path.join(os.path.dirname(prometheus), "promtool")

    work = tempfile.mkdtemp(prefix="ddnswatch-federation.")
    procs = Processes()
    try:
        scenario(results, binary, prometheus, promtool, region_yml, global_yml, work, procs,
                 t_start)
    finally:
        t_stop = time.monotonic()
        procs.stop_all()
        shutil.rmtree(work, ignore_errors=True)
        print(f"timings: stopping everything took {time.monotonic() - t_stop:.2f} s; "
              f"whole test {time.monotonic() - t_start:.2f} s")
    return results.summary()


def scenario(results, binary, prometheus, promtool, region_yml, global_yml, work, procs,
             t_start):
    ports = {r: {"ddnswatch": free_port(), "prometheus": free_port()} for r in REGIONS}
    global_port = free_port()

    configs = {}
    for region in REGIONS:
        configs[region] = regional_config(region_yml, region, ports[region]["ddnswatch"])
    configs["global"] = global_config(global_yml, [ports[r]["prometheus"] for r in REGIONS])
    problems = []
    for name, config in configs.items():
        path = os.path.join(work, f"prometheus-{name}.yml")
        with open(path, "w") as f:
            yaml.safe_dump(config, f, sort_keys=False)
        check = subprocess.run([promtool, "check", "config", path], capture_output=True,
                               text=True, timeout=30)
        if check.returncode != 0:
            problems.append(f"{name}: {check.stdout}{check.stderr}")
    if not results.check("the configs for this run pass promtool check config",
                         not problems, problems):
        return

    # Prometheus first: its first scrape comes ~5.5 s after it starts.
    def start_prometheus(name, port, extra_env=None, flags=()):
        tsdb = os.path.join(work, f"tsdb-{name}")
        os.makedirs(tsdb)
        env = dict(os.environ)
        env.update(extra_env or {})
        procs.start(f"prometheus {name}",
                    [prometheus, f"--config.file={work}/prometheus-{name}.yml",
                     f"--storage.tsdb.path={tsdb}",
                     f"--web.listen-address=127.0.0.1:{port}", *flags],
                    os.path.join(work, f"prometheus-{name}.log"), env=env, cwd=work)

    for region in REGIONS:
        start_prometheus(region, ports[region]["prometheus"], {"PROBE_REGION": region},
                         ["--enable-feature=expand-external-labels"])
    start_prometheus("global", global_port)
    t_prometheus = time.monotonic()

    for region in REGIONS:
        state = os.path.join(work, f"state-{region}")
        config = os.path.join(work, f"ddnswatch-{region}.json")
        with open(config, "w") as f:
            f.write('{"listen": "127.0.0.1:%d", "state_dir": "%s"}\n'
                    % (ports[region]["ddnswatch"], state))
        procs.start(f"ddnswatch {region}", [binary, "run", "--config", config],
                    os.path.join(work, f"ddnswatch-{region}.log"))

    def all_healthy():
        return all(http_get(f"http://127.0.0.1:{ports[r]['ddnswatch']}/healthz")[0] == 200
                   for r in REGIONS)

    if not results.check("both daemons answer /healthz", wait_until(all_healthy, 10.0),
                         procs.tail()):
        return

    # The global view: both regions, each with one ddnswatch.
    expr = "count by (probe_region) (ddnswatch_build_info)"
    seen = {}

    def both_regions():
        result = query(global_port, expr) or []
        seen.clear()
        for sample in result:
            seen[sample["metric"].get("probe_region", "")] = sample["value"][1]
        return set(seen) == set(REGIONS)

    ok = wait_until(both_regions, GLOBAL_DEADLINE - (time.monotonic() - t_start), 0.2)
    t_global = time.monotonic()
    results.check(f"global Prometheus: {expr} returns both regions", ok,
                  [f"last answer: {seen}"] + procs.tail())
    results.check("each region counts one ddnswatch",
                  ok and all(seen[r] == "1" for r in REGIONS), f"{seen}")
    if not ok:
        return

    # honor_labels: the series keep the regions' job and the pod label their relabelling
    # gave them (without it they would be exported_job and job="federate").
    series = query(global_port, "ddnswatch_build_info") or []
    kept = sorted((s["metric"].get("probe_region"), s["metric"].get("job"),
                   s["metric"].get("pod")) for s in series)
    results.check("federated series keep the regions' labels (honor_labels)",
                  kept == [(r, "ddnswatch", f"ddnswatch-{r}-0") for r in REGIONS],
                  f"probe_region, job, pod: {kept}")

    # match[]: the regions' own series about the scrape (up, scrape_*) stay there.
    others = query(global_port, '{job="ddnswatch", __name__!~"ddnswatch_.*"}')
    local = query(ports[REGIONS[0]]["prometheus"], 'up{job="ddnswatch"}')
    results.check("only ddnswatch_* series are federated (match[])",
                  others == [] and local,
                  f"at the global level: {others}; up at the region: {local}")

    # The relabelling of region.yml: the annotated pod is scraped at the annotation's
    # port and path, the other pod is dropped.
    targets = http_json(f"http://127.0.0.1:{ports[REGIONS[0]]['prometheus']}/api/v1/targets")
    active = (targets or {}).get("data", {}).get("activeTargets", [])
    dropped = (targets or {}).get("data", {}).get("droppedTargets", [])
    want = f"http://127.0.0.1:{ports[REGIONS[0]]['ddnswatch']}/metrics"
    results.check("region.yml's relabelling keeps only the annotated ddnswatch pod",
                  [t.get("scrapeUrl") for t in active] == [want] and len(dropped) == 1,
                  f"active: {[t.get('scrapeUrl') for t in active]}, dropped: {len(dropped)}")

    # External labels are for what leaves a region: its own queries do not carry them.
    local_info = query(ports[REGIONS[0]]["prometheus"], "ddnswatch_build_info") or []
    results.check("the regional Prometheus's own queries have no probe_region",
                  local_info and all("probe_region" not in s["metric"] for s in local_info),
                  f"{local_info}")

    print(f"timings: Prometheus started {t_prometheus - t_start:.2f} s after the test "
          f"began; the global Prometheus saw both regions {t_global - t_prometheus:.2f} s "
          f"after the Prometheus servers started ({t_global - t_start:.2f} s into the test)")


if __name__ == "__main__":
    sys.exit(main())
