"""Loads infra/ the way Terraform would read it, without Terraform.

`terraform init/validate` cannot run here (no provider registry is reachable), so the tests read
the HCL with python-hcl2 and assert the properties the design promises: backups, point-in-time
recovery, deletion protection, encryption, replicas in prod, alarms for every store, no secrets
in code. Expressions come back as `${...}` strings; a test that needs a value follows it to the
variable's default or the environment's terraform.tfvars.
"""

from __future__ import annotations

import pathlib
import re
from functools import lru_cache

import hcl2
import pytest
from hcl2.utils import SerializationOptions

INFRA = pathlib.Path(__file__).resolve().parent.parent
REPO = INFRA.parent
MODULES = INFRA / "modules"
ENVS = INFRA / "envs"
MODULE_NAMES = sorted(p.name for p in MODULES.iterdir() if p.is_dir())
ENV_NAMES = sorted(p.name for p in ENVS.iterdir() if p.is_dir())

_OPTIONS = SerializationOptions(
    with_comments=False,
    explicit_blocks=False,
    strip_string_quotes=True,
    preserve_heredocs=False,
)


def parse(path: pathlib.Path) -> dict:
    with path.open() as f:
        return hcl2.load(f, serialization_options=_OPTIONS)


class Config:
    """Every .tf file of one directory, merged by block type."""

    def __init__(self, directory: pathlib.Path):
        self.directory = directory
        self.resources: dict[str, dict[str, dict]] = {}
        self.data: dict[str, dict[str, dict]] = {}
        self.variables: dict[str, dict] = {}
        self.outputs: dict[str, dict] = {}
        self.modules: dict[str, dict] = {}
        self.locals: dict[str, object] = {}
        self.terraform: list[dict] = []
        self.providers: dict[str, dict] = {}
        for path in sorted(directory.glob("*.tf")):
            doc = parse(path)
            for block in doc.get("resource", []):
                for rtype, named in block.items():
                    self.resources.setdefault(rtype, {}).update(named)
            for block in doc.get("data", []):
                for dtype, named in block.items():
                    self.data.setdefault(dtype, {}).update(named)
            for block in doc.get("variable", []):
                self.variables.update(block)
            for block in doc.get("output", []):
                self.outputs.update(block)
            for block in doc.get("module", []):
                self.modules.update(block)
            for block in doc.get("locals", []):
                self.locals.update(block)
            for block in doc.get("provider", []):
                self.providers.update(block)
            self.terraform.extend(doc.get("terraform", []))

    def resource(self, rtype: str, name: str) -> dict:
        assert rtype in self.resources, f"{self.directory.name}: no {rtype} resource"
        assert name in self.resources[rtype], f"{self.directory.name}: no {rtype}.{name}"
        return self.resources[rtype][name]

    def default(self, variable: str):
        assert variable in self.variables, f"{self.directory.name}: no variable {variable}"
        return self.variables[variable].get("default")

    def required_providers(self) -> dict[str, dict]:
        providers: dict[str, dict] = {}
        for block in self.terraform:
            for rp in block.get("required_providers", []):
                providers.update(rp)
        return providers


@lru_cache(maxsize=None)
def module(name: str) -> Config:
    return Config(MODULES / name)


@lru_cache(maxsize=None)
def env(name: str) -> Config:
    return Config(ENVS / name)


@lru_cache(maxsize=None)
def tfvars(name: str) -> dict:
    return parse(ENVS / name / "terraform.tfvars")


def one(block):
    """A nested block appears as a one-element list; return the element."""
    assert isinstance(block, list) and len(block) == 1, f"expected one block, got {block!r}"
    return block[0]


def refers_to(expression, variable: str) -> bool:
    """True when an attribute is exactly `var.<variable>`."""
    return expression == "${var." + variable + "}"


def tf_files() -> list[pathlib.Path]:
    return sorted(p for p in INFRA.rglob("*.tf") if ".terraform" not in p.parts)


def text_files() -> list[pathlib.Path]:
    suffixes = {".tf", ".tfvars", ".yml", ".yaml", ".json", ".md", ".hcl", ".py"}
    return sorted(
        p for p in INFRA.rglob("*")
        if p.is_file() and (p.suffix in suffixes or p.name == "check") and ".terraform" not in p.parts
    )


def registered_metric_names() -> set[str]:
    """polygate_* metric names registered in the Rust code (gateway, kit, subgraph crates)."""
    names: set[str] = set()
    pattern = re.compile(r'register_[a-z_]+!\(\s*(?:prometheus::)?(?:opts!\()?\s*"(polygate_[a-z0-9_]+)"', re.S)
    prefixed = re.compile(r'const PREFIX: &str = "(polygate_[a-z0-9_]+)";')
    spec = re.compile(r'spec\(\s*"([a-z0-9_]+)"', re.S)
    for path in list((REPO / "gateway" / "src").rglob("*.rs")) + list((REPO / "subgraphs").rglob("src/**/*.rs")):
        text = path.read_text()
        names.update(pattern.findall(text))
        # Families registered as PREFIX + name from a table of specs (session's Redis monitor).
        for prefix in prefixed.findall(text):
            names.update(prefix + name for name in spec.findall(text))
    return names


@pytest.fixture(params=MODULE_NAMES)
def module_name(request) -> str:
    return request.param


@pytest.fixture(params=ENV_NAMES)
def env_name(request) -> str:
    return request.param
