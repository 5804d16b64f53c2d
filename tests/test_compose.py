"""The production deployment files: docker-compose.yml and the Dockerfile.

No Docker engine is needed: the files are parsed and checked against the repository.
"""

from __future__ import annotations

import dataclasses
import json
import re
import shlex
from pathlib import Path
from typing import Any

import pytest
import yaml

from storage.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
COMPOSE_FILE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"

SERVICES = {
    "postgres",
    "rabbitmq",
    "minio",
    "migrate",
    "web",
    "worker",
    "worker-short",
    "flower",
    "beat",
    "minio-init",
}
ONE_SHOT = {"migrate", "minio-init"}
APP_SERVICES = ["migrate", "web", "worker", "worker-short", "beat"]
HEALTHCHECKED = ["postgres", "rabbitmq", "minio", "web", "worker", "worker-short"]
REQUIRED_APP_ENV = [
    "DATABASE_URL",
    "CELERY_BROKER_URL",
    "S3_ENDPOINT",
    "S3_ACCESS_KEY",
    "S3_SECRET_KEY",
    "FOOTPRINTS_SECRET_KEY",
]
CONDITIONS = {"service_started", "service_healthy", "service_completed_successfully"}
LOCAL_IMAGE = "footprints:latest"
PACKAGE_DIRS = {"web", "worker", "judging", "storage"}
# Every secret the stack needs, with a value of its own in these tests.
SECRETS = {
    "FOOTPRINTS_SECRET_KEY": "t-session-key",
    "POSTGRES_PASSWORD": "t-postgres-password",
    "RABBITMQ_DEFAULT_PASS": "t-rabbitmq-password",
    "MINIO_ROOT_PASSWORD": "t-minio-root-password",
    "S3_ACCESS_KEY": "t-app-access-key",
    "S3_SECRET_KEY": "t-app-secret-key",
    "METRICS_TOKEN": "t-metrics-token",
    "FLOWER_PASSWORD": "t-flower-password",
}
# What may be published on every interface: the web (behind its TLS proxy) and MinIO's S3 API
# (browsers fetch presigned media from it). Consoles and management APIs are this host's only.
PUBLIC_PORTS = {("web", 8000), ("minio", 9000)}
LOCAL_HOSTS = {"127.0.0.1", "::1", "[::1]", "localhost"}
# ${NAME}, ${NAME:-default}, ${NAME-default}, ${NAME:?error}, ${NAME?error}, ${NAME:+x}, $NAME,
# and $$ for a literal $: compose's interpolation.
REFERENCE = re.compile(r"\$(?:(\$)|\{(\w+)(?:(:?[-?+])([^}]*))?\}|(\w+))")


class MissingVariable(Exception):
    """compose refuses to start: a required variable is unset or empty."""


def interpolate(text: str, env: dict[str, str]) -> str:
    """The compose file as compose reads it with `env` as the environment."""

    def value(match: re.Match[str]) -> str:
        dollar, name, modifier, argument, bare = match.groups()
        if dollar:
            return "$"
        name = name or bare
        given = env.get(name)
        empty = given is None or (given == "" and modifier and modifier.startswith(":"))
        if modifier in {":?", "?"} and empty:
            raise MissingVariable(f"required variable {name} is missing a value: {argument}")
        if modifier in {":-", "-"} and empty:
            return argument
        if modifier in {":+", "+"}:
            return "" if empty else argument
        return given or ""

    return REFERENCE.sub(value, text)


def references(text: str, name: str) -> list[str]:
    """Every reference to variable `name` in `text`, as written."""
    return [m.group(0) for m in REFERENCE.finditer(text) if name in {m.group(2), m.group(5)}]


def known_settings() -> set[str]:
    return {f.metadata["env"] for f in dataclasses.fields(Settings)}


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    data = yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return compose["services"]


@pytest.fixture(scope="module")
def deployed() -> dict[str, Any]:
    """The compose file as compose runs it, every secret set (and nothing else)."""
    data = yaml.safe_load(interpolate(COMPOSE_FILE.read_text(encoding="utf-8"), SECRETS))
    assert isinstance(data, dict)
    return data


@pytest.fixture(scope="module")
def dockerfile() -> list[str]:
    """The Dockerfile's instructions, one string each, continuation lines joined."""
    text = DOCKERFILE.read_text(encoding="utf-8")
    joined = re.sub(r"\\\n", " ", text)
    return [
        line.strip()
        for line in joined.splitlines()
        if line.strip() and not line.strip().startswith("#")
    ]


def depends_on(service: dict[str, Any]) -> dict[str, str]:
    """A service's dependencies and their conditions (the short list form means started)."""
    deps = service.get("depends_on", {})
    if isinstance(deps, list):
        return {name: "service_started" for name in deps}
    return {name: (spec or {}).get("condition", "service_started") for name, spec in deps.items()}


def environment(service: dict[str, Any]) -> dict[str, str | None]:
    env = service.get("environment", {})
    if isinstance(env, list):
        pairs = (item.partition("=") for item in env)
        return {name: (value if sep else None) for name, sep, value in pairs}
    return dict(env)


def image_tag(image: str) -> str | None:
    """The tag of an image reference (None when it has none), ignoring a registry port."""
    if "@" in image:
        return image.partition("@")[2]
    last = image.rpartition("/")[2]
    return last.partition(":")[2] if ":" in last else None


def named_volumes(service: dict[str, Any]) -> set[str]:
    names = set()
    for volume in service.get("volumes", []):
        if isinstance(volume, dict):
            if volume.get("type", "volume") == "volume" and volume.get("source"):
                names.add(volume["source"])
            continue
        source, sep, _ = volume.partition(":")
        if sep and not source.startswith((".", "/", "~", "$")):
            names.add(source)
    return names


def test_compose_parses_without_version_key(compose: dict[str, Any]) -> None:
    assert "version" not in compose
    assert set(compose["services"]) == SERVICES


@pytest.mark.parametrize("name", sorted(SERVICES))
def test_depends_on_names_services_with_valid_conditions(
    services: dict[str, dict[str, Any]], name: str
) -> None:
    for target, condition in depends_on(services[name]).items():
        assert target in services, f"{name} depends on unknown service {target}"
        assert condition in CONDITIONS, f"{name} -> {target}: unknown condition {condition}"
        if condition == "service_healthy":
            assert "healthcheck" in services[target], f"{target} has no healthcheck"
        if condition == "service_completed_successfully":
            assert target in ONE_SHOT, f"{name} waits for {target} to complete"


@pytest.mark.parametrize("name", HEALTHCHECKED)
def test_long_running_services_have_healthchecks(
    services: dict[str, dict[str, Any]], name: str
) -> None:
    test = services[name]["healthcheck"]["test"]
    assert test and test[0] in {"CMD", "CMD-SHELL"}


def test_web_healthcheck_route_exists(services: dict[str, dict[str, Any]]) -> None:
    test = " ".join(services["web"]["healthcheck"]["test"])
    match = re.search(r"http://127\.0\.0\.1:8000(/\w+)", test)
    assert match
    route = f'@bp.route("{match.group(1)}")'
    assert any(route in path.read_text(encoding="utf-8") for path in (ROOT / "web").glob("*.py"))


def test_rabbitmq_has_management_plugin(services: dict[str, dict[str, Any]]) -> None:
    assert "management" in services["rabbitmq"]["image"]


@pytest.mark.parametrize("name", sorted(SERVICES))
def test_images_are_pinned(services: dict[str, dict[str, Any]], name: str) -> None:
    service = services[name]
    image = service.get("image")
    if image is None:
        assert "build" in service, f"{name} has neither image nor build"
        return
    if image == LOCAL_IMAGE:
        assert "build" in service, f"{name} uses {LOCAL_IMAGE} but does not build it"
        return
    tag = image_tag(image)
    assert tag, f"{name}: {image} has no tag"
    assert tag != "latest", f"{name}: {image} is not pinned"


def test_minio_is_pinned_to_a_release(services: dict[str, dict[str, Any]]) -> None:
    tag = image_tag(services["minio"]["image"])
    assert tag is not None and tag.startswith("RELEASE.")


def test_worker_is_scalable(services: dict[str, dict[str, Any]]) -> None:
    worker = services["worker"]
    assert "container_name" not in worker
    assert "ports" not in worker


@pytest.mark.parametrize("name", APP_SERVICES)
def test_app_environment_uses_known_settings(
    services: dict[str, dict[str, Any]], name: str
) -> None:
    unknown = set(environment(services[name])) - known_settings()
    assert not unknown, f"{name} sets variables that are no setting: {sorted(unknown)}"


@pytest.mark.parametrize("name", ["web", "worker"])
@pytest.mark.parametrize("variable", REQUIRED_APP_ENV)
def test_app_environment_is_complete(
    services: dict[str, dict[str, Any]], name: str, variable: str
) -> None:
    assert environment(services[name]).get(variable), f"{name} lacks {variable}"


def test_named_volumes_are_declared(compose: dict[str, Any]) -> None:
    declared = set(compose.get("volumes") or {})
    used = set().union(*(named_volumes(s) for s in compose["services"].values()))
    assert used, "no service keeps its data in a named volume"
    assert used <= declared, f"undeclared volumes: {sorted(used - declared)}"


def test_dockerfile_installs_runtime_packages(dockerfile: list[str]) -> None:
    runs = " ".join(line for line in dockerfile if line.upper().startswith("RUN "))
    assert re.search(r"apt-get install\b[^&;]*\bffmpeg\b", runs)
    assert re.search(r"apt-get install\b[^&;]*\bfonts-wqy-zenhei\b", runs)
    assert re.search(r"pip install\b[^&;]*-c constraints\.txt", runs)
    assert "[dev]" not in runs


def test_dockerfile_does_not_run_as_root(dockerfile: list[str]) -> None:
    users = [line.split(None, 1)[1] for line in dockerfile if line.upper().startswith("USER ")]
    assert users, "the image runs as root"
    assert users[-1].partition(":")[0] not in {"root", "0"}


def test_dockerfile_copies_existing_package_dirs(dockerfile: list[str]) -> None:
    sources: set[str] = set()
    for line in dockerfile:
        if line.upper().startswith("COPY "):
            args = [a for a in shlex.split(line)[1:] if not a.startswith("--")]
            sources.update(Path(a).name for a in args[:-1])
    copied = sources & PACKAGE_DIRS
    assert copied == PACKAGE_DIRS, f"not copied: {sorted(PACKAGE_DIRS - copied)}"
    for package in copied:
        assert (ROOT / package / "__init__.py").is_file(), f"{package} is not a package"
    assert "constraints.txt" in sources and (ROOT / "constraints.txt").is_file()


def test_worker_celery_app_module_exists(services: dict[str, dict[str, Any]]) -> None:
    args = shlex.split(services["worker"]["command"])
    module = args[args.index("-A") + 1]
    assert module == "worker.celery_app"
    assert (ROOT / Path(*module.split("."))).with_suffix(".py").is_file()


def test_the_short_worker_consumes_the_short_queue(services: dict[str, dict[str, Any]]) -> None:
    args = shlex.split(services["worker-short"]["command"])
    assert args[args.index("-Q") + 1] == Settings().short_queue
    flower = environment(services["flower"])
    assert flower.get("FLOWER_BASIC_AUTH"), "Flower must ask for a password"
    assert all(port.startswith("127.0.0.1:") for port in services["flower"]["ports"])


@pytest.mark.parametrize("name", sorted(SECRETS))
def test_compose_refuses_to_start_without_each_secret(name: str) -> None:
    text = COMPOSE_FILE.read_text(encoding="utf-8")
    for missing in ({k: v for k, v in SECRETS.items() if k != name}, {**SECRETS, name: ""}):
        with pytest.raises(MissingVariable, match=name) as refused:
            interpolate(text, missing)
        assert refused.value.args[0].rpartition(": ")[2].strip(), "the error says what to do"


@pytest.mark.parametrize("name", sorted(SECRETS))
def test_no_secret_has_a_default(name: str) -> None:
    found = references(COMPOSE_FILE.read_text(encoding="utf-8"), name)
    assert found, f"{name} is not used"
    for reference in found:
        assert reference.startswith("${" + name + ":?"), f"{reference}: no default, no empty"


def test_each_service_gets_the_secrets_it_needs(deployed: dict[str, Any]) -> None:
    services = deployed["services"]
    postgres = environment(services["postgres"])
    assert postgres["POSTGRES_PASSWORD"] == SECRETS["POSTGRES_PASSWORD"]
    rabbitmq = environment(services["rabbitmq"])
    assert rabbitmq["RABBITMQ_DEFAULT_PASS"] == SECRETS["RABBITMQ_DEFAULT_PASS"]
    credentials = f"{rabbitmq['RABBITMQ_DEFAULT_USER']}:{SECRETS['RABBITMQ_DEFAULT_PASS']}@"
    assert environment(services["minio"])["MINIO_ROOT_PASSWORD"] == SECRETS["MINIO_ROOT_PASSWORD"]
    for name in APP_SERVICES:
        env = environment(services[name])
        assert f":{SECRETS['POSTGRES_PASSWORD']}@postgres:" in str(env["DATABASE_URL"])
        assert f"//{credentials}rabbitmq:5672/" in str(env["CELERY_BROKER_URL"])
        assert f"//{credentials}rabbitmq:15672" in str(env["RABBITMQ_API_URL"])
    flower = environment(services["flower"])
    assert f"//{credentials}rabbitmq:" in str(flower["CELERY_BROKER_URL"])
    assert f"//{credentials}rabbitmq:" in str(flower["FLOWER_BROKER_API"])
    assert "guest" not in yaml.safe_dump(deployed), "RabbitMQ's guest account is for loopback"


def test_the_app_uses_a_minio_user_of_its_own(deployed: dict[str, Any]) -> None:
    services = deployed["services"]
    root = environment(services["minio"])
    assert root["MINIO_ROOT_USER"] != SECRETS["S3_ACCESS_KEY"]
    for name in [*APP_SERVICES, "flower"]:
        env = environment(services[name])
        assert SECRETS["MINIO_ROOT_PASSWORD"] not in json.dumps(env), f"{name} has the root key"
        if name != "flower":
            assert env["S3_ACCESS_KEY"] == SECRETS["S3_ACCESS_KEY"]
            assert env["S3_SECRET_KEY"] == SECRETS["S3_SECRET_KEY"]

    init = services["minio-init"]
    assert init["image"].startswith("minio/mc:")
    assert depends_on(init) == {"minio": "service_healthy"}
    assert depends_on(services["migrate"])["minio-init"] == "service_completed_successfully"
    script = " ".join(init.get("entrypoint", [])) + " " + " ".join(init["command"])
    for step in ("mc mb", "mc admin user add", "mc admin policy create", "mc admin policy attach"):
        assert step in script, f"minio-init does not run {step}"
    env = environment(init)
    assert env["MINIO_ROOT_PASSWORD"] == SECRETS["MINIO_ROOT_PASSWORD"]
    assert (env["S3_ACCESS_KEY"], env["S3_SECRET_KEY"]) == (
        SECRETS["S3_ACCESS_KEY"],
        SECRETS["S3_SECRET_KEY"],
    )


def test_the_app_users_policy_reaches_its_buckets_only(deployed: dict[str, Any]) -> None:
    app = Settings.from_env(
        {k: str(v) for k, v in environment(deployed["services"]["web"]).items()}
    )
    init = deployed["services"]["minio-init"]
    assert environment(init)["S3_BUCKET_ORIGINALS"] == app.bucket_originals
    assert environment(init)["S3_BUCKET_ASSETS"] == app.bucket_assets
    (config,) = init["configs"]
    policy = json.loads(deployed["configs"][config["source"]]["content"])
    assert config["target"] in " ".join(init["command"]), "the policy file is the one created"
    buckets = {f"arn:aws:s3:::{b}" for b in (app.bucket_originals, app.bucket_assets)}
    allowed: set[str] = set()
    for statement in policy["Statement"]:
        assert statement["Effect"] == "Allow"
        resources = set(statement["Resource"])
        assert resources <= buckets | {f"{b}/*" for b in buckets}, resources
        actions = set(statement["Action"])
        assert all(a.startswith("s3:") and "*" not in a for a in actions), actions
        allowed |= actions
    needed = {"s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:ListBucket"}
    assert needed | {"s3:AbortMultipartUpload", "s3:ListBucketMultipartUploads"} <= allowed
    assert not allowed & {"s3:CreateBucket", "s3:DeleteBucket", "s3:PutBucketPolicy"}


def published(service: dict[str, Any]) -> list[tuple[str, int]]:
    """A service's published ports: (host address, container port); "" is every interface."""
    ports = []
    for port in service.get("ports", []):
        if isinstance(port, dict):
            ports.append((str(port.get("host_ip", "")), int(port["target"])))
            continue
        parts = str(port).rsplit(":", 2)
        host = parts[0] if len(parts) == 3 else ""
        ports.append((host, int(parts[-1].partition("/")[0])))
    return ports


def test_consoles_are_reachable_from_this_host_only(deployed: dict[str, Any]) -> None:
    for name, service in deployed["services"].items():
        for host, port in published(service):
            if (name, port) not in PUBLIC_PORTS:
                assert host in LOCAL_HOSTS, f"{name}'s port {port} is published on {host or '*'}"
    assert published(deployed["services"]["minio"]) != [], "browsers need MinIO's S3 API"


@pytest.mark.parametrize("name", APP_SERVICES)
def test_production_settings(deployed: dict[str, Any], name: str) -> None:
    env = {k: str(v) for k, v in environment(deployed["services"][name]).items()}
    settings = Settings.from_env(env)
    assert settings.cookie_secure is True
    assert settings.metrics_token == SECRETS["METRICS_TOKEN"]
    assert settings.secret_key == SECRETS["FOOTPRINTS_SECRET_KEY"]
