"""The deployment files say what a platform engineer would check before running them.

Dockerfile, .dockerignore, compose.yaml and the kustomize base in deploy/kubernetes are read
as data (PyYAML, plain text); nothing here builds an image or talks to a cluster. Where the
tools are installed, `docker-compose config` and `kubectl kustomize` render the files too.
The secret check reads config/example.env, so a secret setting added there without a place in
the Secret template fails here.
"""

from __future__ import annotations

import fnmatch
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.helpers import ROOT

K8S = ROOT / "deploy" / "kubernetes"
EXAMPLE_ENV = ROOT / "config" / "example.env"
SPOOL_PATH = "/var/lib/cicd-bot/spool"
HTTP_PORT = 8080
SECRET_SUFFIXES = ("_TOKEN", "_SECRET", "_KEY", "_PASSWORD")


# --- helpers -------------------------------------------------------------------------------


def example_env_names() -> list[str]:
    """Every setting config/example.env documents (lines `NAME=...`)."""
    names = []
    for line in EXAMPLE_ENV.read_text(encoding="utf-8").splitlines():
        m = re.match(r"([A-Z][A-Z0-9_]*)=", line)
        if m:
            names.append(m.group(1))
    return names


def secret_names() -> set[str]:
    return {n for n in example_env_names() if n.endswith(SECRET_SUFFIXES) or n == "DATABASE_URL"}


def env_file_pairs(path: Path) -> dict[str, str]:
    """A kustomize/Docker env file: KEY=value lines, # comment lines."""
    pairs = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        key, _, value = line.partition("=")
        pairs[key.strip()] = value
    return pairs


def load_all(path: Path) -> list[dict]:
    return [doc for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")) if doc]


def kustomization() -> dict:
    return load_all(K8S / "kustomization.yaml")[0]


def base_objects() -> list[dict]:
    """The objects the kustomization applies (its resources), in order."""
    objs = []
    for name in kustomization()["resources"]:
        objs.extend(load_all(K8S / name))
    return objs


def find(kind: str, name: str) -> dict:
    matches = [o for o in base_objects() if o["kind"] == kind and o["metadata"]["name"] == name]
    assert len(matches) == 1, f"expected one {kind} {name}, found {len(matches)}"
    return matches[0]


def workloads() -> list[dict]:
    return [o for o in base_objects() if o["kind"] in ("Deployment", "StatefulSet", "Job")]


def all_containers(pod_spec: dict) -> list[dict]:
    return pod_spec.get("initContainers", []) + pod_spec["containers"]


def resolve_port(container: dict, port) -> int:
    if isinstance(port, int):
        return port
    named = {p["name"]: p["containerPort"] for p in container.get("ports", [])}
    assert port in named, f"container {container['name']} has no port named {port}"
    return named[port]


def env_value(container: dict, name: str) -> str | None:
    for item in container.get("env", []):
        if item["name"] == name:
            return item.get("value")
    return None


def compose() -> dict:
    return yaml.safe_load((ROOT / "compose.yaml").read_text(encoding="utf-8"))


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    text = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    lines, current = [], ""
    for raw in text.splitlines():
        if raw.lstrip().startswith("#") and not current:
            continue
        if raw.lstrip().startswith("#"):
            continue  # a comment inside a continued instruction
        if raw.rstrip().endswith("\\"):
            current += raw.rstrip()[:-1] + " "
            continue
        current += raw
        if current.strip():
            lines.append(current.strip())
        current = ""
    out = []
    for line in lines:
        word, _, rest = line.partition(" ")
        out.append((word.upper(), rest.strip()))
    return out


# --- kustomize base ------------------------------------------------------------------------


def test_kustomization_lists_files_that_exist_and_every_manifest_is_listed():
    k = kustomization()
    listed = list(k["resources"])
    for gen in k.get("configMapGenerator", []) + k.get("secretGenerator", []):
        listed += gen.get("envs", []) + [f.split("=")[-1] for f in gen.get("files", [])]
    for name in listed:
        assert (K8S / name).is_file(), f"kustomization.yaml lists {name}, which does not exist"
    manifests = {p.name for p in K8S.glob("*.yaml")} - {"kustomization.yaml", "secret.example.yaml"}
    assert manifests <= set(k["resources"]), f"not in kustomization.yaml: {manifests - set(k['resources'])}"


def test_secret_template_is_not_applied_by_the_base():
    assert "secret.example.yaml" not in kustomization()["resources"]
    assert not any(o["kind"] == "Secret" for o in base_objects()), "a Secret with values must not be in the base"


def test_every_yaml_parses_with_apiversion_kind_and_name():
    for path in sorted(K8S.glob("*.yaml")):
        for doc in load_all(path):
            assert doc.get("apiVersion") and doc.get("kind"), path.name
            if doc["kind"] != "Kustomization":
                assert doc["metadata"]["name"], path.name


def test_serve_has_two_replicas_and_probes_on_health_8080():
    serve = find("Deployment", "cicd-bot-serve")
    assert serve["spec"]["replicas"] == 2
    container = next(c for c in serve["spec"]["template"]["spec"]["containers"] if c["name"] == "serve")
    assert container["command"] == ["cicd-bot", "serve"]
    assert resolve_port(container, "http") == HTTP_PORT
    assert env_value(container, "PORT") == str(HTTP_PORT)
    for probe in ("readinessProbe", "livenessProbe"):
        get = container[probe]["httpGet"]
        assert get["path"] == "/health", probe
        assert resolve_port(container, get["port"]) == HTTP_PORT, probe
    assert container["resources"]["requests"] and container["resources"]["limits"]["memory"]


def test_serve_selector_matches_its_pods_and_not_the_workers():
    serve = find("Deployment", "cicd-bot-serve")
    worker = find("Deployment", "cicd-bot-worker")
    selector = serve["spec"]["selector"]["matchLabels"]
    assert selector.items() <= serve["spec"]["template"]["metadata"]["labels"].items()
    assert not selector.items() <= worker["spec"]["template"]["metadata"]["labels"].items()


def test_every_pod_runs_as_non_root_with_a_read_only_root():
    for obj in workloads():
        pod = obj["spec"]["template"]["spec"]
        pod_ctx = pod.get("securityContext", {})
        assert pod.get("automountServiceAccountToken") is False, obj["metadata"]["name"]
        for c in all_containers(pod):
            ctx = {**pod_ctx, **c.get("securityContext", {})}
            where = f"{obj['metadata']['name']}/{c['name']}"
            assert ctx.get("runAsNonRoot") is True, where
            assert ctx.get("runAsUser", 0) != 0, where
            assert ctx.get("readOnlyRootFilesystem") is True, where
            assert ctx.get("allowPrivilegeEscalation") is False, where
            assert "ALL" in ctx.get("capabilities", {}).get("drop", []), where
            mounts = {m["mountPath"]: m["name"] for m in c.get("volumeMounts", [])}
            assert "/tmp" in mounts, f"{where}: a read-only root needs a writable /tmp"
            volumes = {v["name"] for v in pod.get("volumes", [])}
            assert set(mounts.values()) <= volumes, where


def test_the_uid_in_the_manifests_is_the_one_in_the_image():
    users = [args for word, args in dockerfile_instructions() if word == "USER"]
    image_uid = int(users[-1].split(":")[0])
    for obj in workloads():
        assert obj["spec"]["template"]["spec"]["securityContext"]["runAsUser"] == image_uid


def test_serve_and_worker_have_a_spool_volume_that_spool_dir_names():
    for name in ("cicd-bot-serve", "cicd-bot-worker"):
        pod = find("Deployment", name)["spec"]["template"]["spec"]
        main = pod["containers"][0]
        mounts = {m["mountPath"]: m["name"] for m in main["volumeMounts"]}
        assert SPOOL_PATH in mounts, name
        assert env_value(main, "SPOOL_DIR") == SPOOL_PATH, name
        volume = next(v for v in pod["volumes"] if v["name"] == mounts[SPOOL_PATH])
        assert "emptyDir" in volume or "persistentVolumeClaim" in volume, name


def test_pods_get_longer_to_stop_than_the_bot_takes():
    grace = float(env_file_pairs(K8S / "settings.env").get("SHUTDOWN_GRACE_SECONDS", "20"))
    for name in ("cicd-bot-serve", "cicd-bot-worker"):
        pod = find("Deployment", name)["spec"]["template"]["spec"]
        assert pod["terminationGracePeriodSeconds"] > grace, name


def test_worker_runs_worker():
    worker = find("Deployment", "cicd-bot-worker")
    assert worker["spec"]["template"]["spec"]["containers"][0]["command"] == ["cicd-bot", "worker"]


def test_migration_job_runs_db_upgrade_and_pods_wait_for_the_schema():
    job = find("Job", "cicd-bot-migrate")
    pod = job["spec"]["template"]["spec"]
    assert pod["restartPolicy"] in ("Never", "OnFailure")
    command = pod["containers"][0]["command"]
    assert command[:1] == ["cicd-bot"] and command[1:3] == ["db", "upgrade"]
    for name in ("cicd-bot-serve", "cicd-bot-worker"):
        inits = find("Deployment", name)["spec"]["template"]["spec"].get("initContainers", [])
        assert any("cicd-bot db status" in " ".join(c.get("command", [])) for c in inits), name


def test_pdb_selects_the_serve_pods():
    pdb = find("PodDisruptionBudget", "cicd-bot-serve")
    serve_labels = find("Deployment", "cicd-bot-serve")["spec"]["template"]["metadata"]["labels"]
    worker_labels = find("Deployment", "cicd-bot-worker")["spec"]["template"]["metadata"]["labels"]
    selector = pdb["spec"]["selector"]["matchLabels"]
    assert selector.items() <= serve_labels.items()
    assert not selector.items() <= worker_labels.items()
    assert pdb["spec"].get("minAvailable", 0) >= 1 or "maxUnavailable" in pdb["spec"]
    # minAvailable must leave room for an eviction, or a node drain blocks forever.
    assert pdb["spec"].get("minAvailable", 0) < find("Deployment", "cicd-bot-serve")["spec"]["replicas"]


def test_service_sends_traffic_to_serve_on_8080():
    svc = find("Service", "cicd-bot")
    serve = find("Deployment", "cicd-bot-serve")
    assert svc["spec"]["selector"].items() <= serve["spec"]["template"]["metadata"]["labels"].items()
    container = serve["spec"]["template"]["spec"]["containers"][0]
    assert [resolve_port(container, p["targetPort"]) for p in svc["spec"]["ports"]] == [HTTP_PORT]


def test_pods_read_the_settings_configmap_and_the_secret():
    k = kustomization()
    configmaps = {g["name"] for g in k.get("configMapGenerator", [])}
    for obj in workloads():
        for c in obj["spec"]["template"]["spec"]["containers"]:
            refs = c.get("envFrom", [])
            assert {r["configMapRef"]["name"] for r in refs if "configMapRef" in r} <= configmaps
            assert {r["secretRef"]["name"] for r in refs if "secretRef" in r} == {"cicd-bot"}


def test_secret_template_has_every_secret_setting_and_no_values():
    docs = load_all(K8S / "secret.example.yaml")
    assert len(docs) == 1 and docs[0]["kind"] == "Secret" and docs[0]["metadata"]["name"] == "cicd-bot"
    data = docs[0]["stringData"]
    expected = secret_names()
    assert {"DATABASE_URL", "GITLAB_API_TOKEN", "GITLAB_WEBHOOK_SECRET"} <= expected  # the parse works
    missing = expected - set(data)
    assert not missing, f"secret settings in config/example.env without a key in secret.example.yaml: {sorted(missing)}"
    unknown = set(data) - set(example_env_names())
    assert not unknown, f"keys the bot does not read: {sorted(unknown)}"
    # Nothing secret is committed, and a template applied unchanged must not carry a usable secret.
    assert all(value == "" for value in data.values()), "secret.example.yaml must leave every value empty"


def test_settings_configmap_has_known_non_secret_settings_only():
    pairs = env_file_pairs(K8S / "settings.env")
    known = set(example_env_names())
    assert set(pairs) <= known, f"not settings of the bot: {sorted(set(pairs) - known)}"
    assert not set(pairs) & secret_names(), "secrets belong in the Secret"
    # kustomize keeps a trailing "# comment" as part of the value.
    assert not [k for k, v in pairs.items() if "#" in v]


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl is not installed: kustomize rendering not checked")
def test_kustomize_renders_and_rewrites_the_generated_configmap_name():
    out = subprocess.run(["kubectl", "kustomize", str(K8S)], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    objs = [d for d in yaml.safe_load_all(out.stdout) if d]
    configmaps = {o["metadata"]["name"] for o in objs if o["kind"] == "ConfigMap"}
    assert configmaps and all(name.startswith("cicd-bot-settings-") for name in configmaps)
    for obj in objs:
        if obj["kind"] in ("Deployment", "Job"):
            for c in all_containers(obj["spec"]["template"]["spec"]):
                for ref in c.get("envFrom", []):
                    if "configMapRef" in ref:
                        assert ref["configMapRef"]["name"] in configmaps


# --- compose ---------------------------------------------------------------------------------

BOT_SERVICES = ("migrate", "serve", "worker")


def test_compose_has_the_four_services():
    services = compose()["services"]
    assert set(services) >= {"postgres", "migrate", "serve", "worker"}
    assert services["postgres"]["image"] == "postgres:16"


def test_compose_postgres_keeps_its_data_and_has_a_pg_isready_healthcheck():
    c = compose()
    pg = c["services"]["postgres"]
    volume = pg["volumes"][0].split(":")
    assert volume[1] == "/var/lib/postgresql/data" and volume[0] in c["volumes"]
    assert "pg_isready" in " ".join(pg["healthcheck"]["test"])
    assert "ports" not in pg, "the database is for the bot only"


def test_compose_order_postgres_then_migrate_then_serve_and_worker():
    services = compose()["services"]
    assert services["migrate"]["command"][-2:] == ["db", "upgrade"]
    assert services["migrate"]["restart"] == "no"
    assert services["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    for name in ("serve", "worker"):
        assert services[name]["depends_on"]["migrate"]["condition"] == "service_completed_successfully", name


def test_compose_serve_publishes_8080_with_a_healthcheck():
    serve = compose()["services"]["serve"]
    assert serve["command"] == ["cicd-bot", "serve"]
    assert any(str(p).endswith(f":{HTTP_PORT}") for p in serve["ports"])
    assert serve["environment"]["PORT"] == str(HTTP_PORT)
    check = " ".join(serve["healthcheck"]["test"])
    assert f"127.0.0.1:{HTTP_PORT}/health" in check
    assert compose()["services"]["worker"]["healthcheck"] == {"disable": True}


def test_compose_bot_containers_share_settings_and_have_a_spool():
    c = compose()
    for name in BOT_SERVICES:
        svc = c["services"][name]
        assert svc["env_file"] == ".env", name
        assert svc["environment"]["SPOOL_DIR"] == SPOOL_PATH, name
        assert svc["environment"]["DATABASE_URL"].startswith("postgresql://"), name
        assert "@postgres:5432/" in svc["environment"]["DATABASE_URL"], name
        assert svc["read_only"] is True and "ALL" in svc["cap_drop"], name
        assert "build" in svc and svc["image"], name
    for name in ("serve", "worker"):
        targets = [v.split(":")[-1] if ":" in v else v for v in c["services"][name]["volumes"]]
        assert SPOOL_PATH in targets, name
    assert "spool" in c["volumes"]


def _compose_project(tmp_path: Path, with_env: bool) -> Path:
    """A copy of compose.yaml with a .env made the way docs/deploy.md says: the example's
    settings with their comments and empty values dropped, plus a database password."""
    shutil.copy(ROOT / "compose.yaml", tmp_path / "compose.yaml")
    if with_env:
        lines = []
        for line in EXAMPLE_ENV.read_text(encoding="utf-8").splitlines():
            line = re.sub(r"\s+#.*$", "", line)
            if not line.strip() or line.lstrip().startswith("#") or line.endswith("="):
                continue
            lines.append(line)
        lines += ["POSTGRES_PASSWORD=0123456789abcdef", "GITLAB_WEBHOOK_SECRET=test-only-secret"]
        (tmp_path / ".env").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return tmp_path


def _run_compose(project: Path, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("POSTGRES_PASSWORD", "COMPOSE_FILE")}
    return subprocess.run(
        ["docker-compose", "-f", str(project / "compose.yaml"), *args],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )


@pytest.mark.skipif(
    shutil.which("docker-compose") is None,
    reason="docker-compose is not installed: compose.yaml not validated by Compose",
)
def test_docker_compose_config_accepts_the_file(tmp_path):
    # A copy in a scratch directory, so that an operator's own .env in the work tree is neither
    # read nor needed; the build context (".") is then the scratch directory, which `config`
    # only checks for existence.
    project = _compose_project(tmp_path, with_env=True)
    result = _run_compose(project, "config", "-q")
    assert result.returncode == 0, result.stderr
    rendered = yaml.safe_load(_run_compose(project, "config").stdout)
    for name in BOT_SERVICES:
        env = rendered["services"][name]["environment"]
        assert env["DATABASE_URL"] == "postgresql://cicd_bot:0123456789abcdef@postgres:5432/cicd_bot"
        assert env["SPOOL_DIR"] == SPOOL_PATH  # compose.yaml wins over .env
        assert not [k for k, v in env.items() if str(v).lstrip().startswith("#")], "a comment became a value"


@pytest.mark.skipif(
    shutil.which("docker-compose") is None,
    reason="docker-compose is not installed: compose.yaml not validated by Compose",
)
def test_docker_compose_refuses_to_start_without_a_database_password(tmp_path):
    project = _compose_project(tmp_path, with_env=False)
    result = _run_compose(project, "config", "-q")
    assert result.returncode != 0


# --- Dockerfile and .dockerignore -------------------------------------------------------------


def test_dockerfile_is_multi_stage_on_the_base_image_argument():
    ins = dockerfile_instructions()
    froms = [args for word, args in ins if word == "FROM"]
    assert len(froms) >= 2 and all(f.startswith("${BASE_IMAGE}") for f in froms)
    args = {a.split("=", 1)[0]: (a.split("=", 1)[1] if "=" in a else None) for w, a in ins if w == "ARG"}
    assert args["BASE_IMAGE"] == "python:3.11-slim-bookworm"
    assert "EXTRA_CA_CERTS" in args and args["EXTRA_CA_CERTS"] in (None, "", '""')
    assert "PIP_INDEX_URL" in args


def test_dockerfile_runs_serve_as_a_non_root_user_with_a_healthcheck():
    ins = dockerfile_instructions()
    users = [args for word, args in ins if word == "USER"]
    assert users, "no USER: the container would run as root"
    user = users[-1].split(":")[0]
    assert user not in ("0", "root") and int(user) > 0
    health = [args for word, args in ins if word == "HEALTHCHECK"]
    assert len(health) == 1 and "/health" in health[0] and "NONE" not in health[0]
    assert [args for word, args in ins if word == "EXPOSE"] == [str(HTTP_PORT)]
    assert [args for word, args in ins if word == "CMD"][-1] == '["cicd-bot", "serve"]'
    # The final stage must not depend on /usr/local/bin/python (Debian's python3 lives in /usr/bin).
    final = ins[max(i for i, (w, _) in enumerate(ins) if w == "FROM") :]
    assert not any("/usr/local/bin/python" in args for _, args in final)


def _dockerignored(patterns: list[str], path: str) -> bool:
    excluded = False
    parts = path.split("/")
    candidates = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    for pattern in patterns:
        negate = pattern.startswith("!")
        pattern = pattern.lstrip("!").strip("/")
        hit = any(
            fnmatch.fnmatch(c, pattern)
            or (pattern.startswith("**/") and fnmatch.fnmatch(c.split("/")[-1], pattern[3:]))
            for c in candidates
        )
        if hit:
            excluded = not negate
    return excluded


def test_dockerignore_keeps_local_state_out_and_what_pip_needs_in():
    patterns = [
        line.strip()
        for line in (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    for path in (
        ".git/config",
        ".venv/bin/python",
        ".env",
        "cicd-bot.db",
        "tests/conftest.py",
        "bot/__pycache__/x.pyc",
    ):
        assert _dockerignored(patterns, path), f"{path} would be sent to the build"
    for path in (
        "pyproject.toml",
        "README.md",
        "app.py",
        "config/example.env",
        "config/settings.py",
        "storage/migrations/env.py",
        "prompts/__init__.py",
    ):
        assert not _dockerignored(patterns, path), f"{path} is needed by `pip install .`"
