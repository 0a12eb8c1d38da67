#!/usr/bin/python3
"""Checks config/ddnswatch.schema.json against the shipped configs and the loader.

Usage: /usr/bin/python3 validate_examples.py DDNSWATCH_BINARY [SOURCE_DIR]

1. The schema is a valid draft 2020-12 schema, and every property in it has a description.
2. config/ddnswatch.json and config/examples/*.json validate against the schema.
3. Copies of the examples, with dummy secret files and environment variables, pass
   `ddnswatch check --config FILE` (exit 0, stdout "ok").
4. Broken configs are rejected by both the schema and `ddnswatch check` (exit 1).

Prints one line per check and ends with "N passed, M failed"; exits 1 if any check failed.
Needs python3-jsonschema (Debian's 4.10 is enough); run it with /usr/bin/python3.
"""

import copy
import json
import os
import pathlib
import re
import shutil
import subprocess
import sys
import tempfile

import jsonschema

# Dummy values. The TSIG secret must be base64; URLs must be http(s).
DUMMY_BASE64 = "c2VjcmV0LWZvci10ZXN0cw=="
DUMMY_URL = "https://hooks.example.net/ddnswatch-test"
ENV_REFERENCE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


class Results:
    def __init__(self):
        self.passed = 0
        self.failed = 0

    def ok(self, name):
        self.passed += 1
        print(f"{name}: OK")

    def fail(self, name, details):
        self.failed += 1
        print(f"{name}: FAILED")
        for line in details:
            print(f"    {line}")


def schema_errors(validator, instance):
    errors = sorted(validator.iter_errors(instance), key=lambda e: list(e.absolute_path))
    out = []
    for e in errors:
        pointer = "/" + "/".join(str(p) for p in e.absolute_path)
        out.append(f"{pointer}: {e.message}")
    return out


def properties_without_description(node, where="#"):
    """Paths of entries under any "properties" that lack a "description".

    The conditions of if/then only select a branch; they define no properties.
    """
    missing = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "if":
                continue
            if key == "properties" and isinstance(value, dict):
                for name, prop in value.items():
                    if not isinstance(prop, dict) or "description" not in prop:
                        missing.append(f"{where}/properties/{name}")
            missing += properties_without_description(value, f"{where}/{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            missing += properties_without_description(value, f"{where}/{i}")
    return missing


def walk(node, path=()):
    """Yields (key path, value) for every value in a JSON document."""
    yield path, node
    if isinstance(node, dict):
        for k, v in node.items():
            yield from walk(v, path + (k,))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from walk(v, path + (i,))


def dummy_env_value(name):
    upper = name.upper()
    if "URL" in upper:
        return DUMMY_URL
    if "TSIG" in upper:
        return DUMMY_BASE64
    return f"dummy-{name.lower()}"


def dummy_secret_content(key):
    if key == "key_secret_file":
        return DUMMY_BASE64 + "\n"
    if key == "url_file":
        return DUMMY_URL + "\n"
    return f"dummy-{key}\n"


def prepare_secrets(doc, folder, env):
    """Writes the files named by *_file keys and sets the ${NAME} variables of `doc`."""
    for path, value in walk(doc):
        if not isinstance(value, str):
            continue
        for name in ENV_REFERENCE.findall(value):
            env.setdefault(name, dummy_env_value(name))
        key = path[-1] if path else None
        if isinstance(key, str) and key.endswith("_file") and key != "ca_file":
            target = pathlib.Path(value)
            if not target.is_absolute():
                target = folder / target
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(dummy_secret_content(key))


def run_check(binary, config_file, env):
    return subprocess.run(
        [binary, "check", "--config", str(config_file)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        timeout=30,
    )


def negative_cases(base):
    """(name, config, JSON pointer the loader must name) for configs both must reject."""
    cases = []

    def case(name, pointer, mutate):
        doc = copy.deepcopy(base)
        mutate(doc)
        cases.append((name, doc, pointer))

    provider = lambda d: d["records"][0]["provider"]  # noqa: E731

    case("unknown top-level key", "/listne", lambda d: d.update({"listne": "127.0.0.1:9877"}))
    case("misspelled provider kind", "/records/0/provider/kind",
         lambda d: provider(d).update({"kind": "cloudflair"}))
    case("numeric duration", "/detect/interval", lambda d: d["detect"].update({"interval": 300}))
    case("token and token_file", "/records/0/provider",
         lambda d: provider(d).update({"token_file": "secrets/cloudflare-token"}))
    case("neither token nor token_file", "/records/0/provider",
         lambda d: provider(d).pop("token"))
    case("record type CNAME", "/records/0/type", lambda d: d["records"][0].update({"type": "CNAME"}))
    case("duration without unit", "/watch/0/interval",
         lambda d: d["watch"][0].update({"interval": "30"}))
    case("key of another provider kind", "/records/0/provider/server",
         lambda d: provider(d).update({"server": "192.0.2.53"}))
    case("empty expect list", "/watch/0/expect", lambda d: d["watch"][0].update({"expect": []}))
    case("unknown IP source", "/detect/ipv4/sources/0",
         lambda d: d["detect"]["ipv4"]["sources"].__setitem__(0, "ipfy"))
    case("quorum 0", "/detect/ipv4/quorum", lambda d: d["detect"]["ipv4"].update({"quorum": 0}))
    case("dns source without a server", "/detect/ipv4/sources/0",
         lambda d: d["detect"]["ipv4"]["sources"].__setitem__(0, "dns:myip.opendns.com"))
    case("allow entry that is no range", "/detect/allow/0",
         lambda d: d["detect"].update({"allow": ["cgnat"]}))
    case("listen without port", "/listen", lambda d: d.update({"listen": "127.0.0.1"}))
    case("tls without key_file", "/web/tls",
         lambda d: d.update({"web": {"tls": {"cert_file": "tls/fullchain.pem"}}}))
    return cases


def main():
    if len(sys.argv) < 2:
        print(f"usage: {sys.argv[0]} DDNSWATCH_BINARY [SOURCE_DIR]", file=sys.stderr)
        return 2
    binary = os.path.abspath(sys.argv[1])
    source_dir = pathlib.Path(sys.argv[2] if len(sys.argv) > 2 else
                              pathlib.Path(__file__).resolve().parents[2])
    config_dir = source_dir / "config"
    schema_file = config_dir / "ddnswatch.schema.json"
    results = Results()

    # 1. The schema itself.
    schema = json.loads(schema_file.read_text())
    try:
        jsonschema.Draft202012Validator.check_schema(schema)
        results.ok(f"{schema_file.relative_to(source_dir)} is a draft 2020-12 schema")
    except jsonschema.exceptions.SchemaError as e:
        results.fail(f"{schema_file.relative_to(source_dir)} is a draft 2020-12 schema", [str(e)])
        print(f"{results.passed} passed, {results.failed} failed")
        return 1
    missing = properties_without_description(schema)
    if missing:
        results.fail("every property has a description", missing)
    else:
        results.ok("every property has a description")
    validator = jsonschema.Draft202012Validator(schema)

    # 2. The shipped configs against the schema.
    examples = sorted((config_dir / "examples").glob("*.json"))
    if not examples:
        results.fail("config/examples", ["no examples found"])
    for f in [config_dir / "ddnswatch.json"] + examples:
        name = f"schema: {f.relative_to(source_dir)}"
        try:
            doc = json.loads(f.read_text())
        except json.JSONDecodeError as e:
            results.fail(name, [f"not JSON: {e}"])
            continue
        errors = schema_errors(validator, doc)
        if errors:
            results.fail(name, errors)
        else:
            results.ok(name)

    # 3. and 4. The loader, on copies with dummy secrets.
    with tempfile.TemporaryDirectory(prefix="ddnswatch-schema-") as tmp:
        tmp = pathlib.Path(tmp)
        work = tmp / "examples"
        work.mkdir()
        env = {k: v for k, v in os.environ.items() if k != "DDNSWATCH_CONFIG"}
        copies = [(config_dir / "ddnswatch.json", tmp / "ddnswatch.json")]
        copies += [(f, work / f.name) for f in examples]
        for original, target in copies:
            shutil.copyfile(original, target)
            prepare_secrets(json.loads(original.read_text()), target.parent, env)
        for original, target in copies:
            name = f"ddnswatch check: {original.relative_to(source_dir)}"
            r = run_check(binary, target, env)
            if r.returncode == 0 and r.stdout.strip() == "ok":
                results.ok(name)
            else:
                results.fail(name, [f"exit {r.returncode}, stdout {r.stdout.strip()!r}"] +
                             r.stderr.strip().splitlines())

        base_file = config_dir / "examples" / "cloudflare.json"
        if not base_file.exists():
            results.fail("negative cases", [f"{base_file} is missing"])
        else:
            base = json.loads(base_file.read_text())
            for i, (label, doc, pointer) in enumerate(negative_cases(base)):
                name = f"rejected: {label}"
                problems = []
                if not schema_errors(validator, doc):
                    problems.append("the schema accepts it")
                bad = work / f"negative-{i}.json"
                bad.write_text(json.dumps(doc, indent=2))
                r = run_check(binary, bad, env)
                if r.returncode != 1:
                    problems.append(f"ddnswatch check exited {r.returncode}, expected 1")
                if f": {pointer}: " not in r.stderr:
                    problems.append(f"ddnswatch check did not report {pointer}")
                    problems += r.stderr.strip().splitlines()
                if problems:
                    results.fail(name, problems)
                else:
                    results.ok(name)

    print(f"{results.passed} passed, {results.failed} failed")
    return 0 if results.failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
