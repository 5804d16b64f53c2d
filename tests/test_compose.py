"""The production deployment files: docker-compose.yml and the Dockerfile.

No Docker engine is needed: the files are parsed and checked against the repository.
"""

from __future__ import annotations

import dataclasses
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
}
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
            assert target == "migrate", f"{name} waits for {target} to complete"


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
