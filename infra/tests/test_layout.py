"""Item 1: every module is laid out like the best module repositories, and the environments
compose them the same way with a remote, encrypted state."""

import re

import readme_tables
from conftest import ENV_NAMES, ENVS, INFRA, MODULES, env, module, one, parse


def test_every_module_has_main_variables_outputs_versions_and_a_readme(module_name):
    directory = MODULES / module_name
    for name in ("main.tf", "variables.tf", "outputs.tf", "versions.tf", "README.md"):
        assert (directory / name).is_file(), f"modules/{module_name} lacks {name}"


def test_every_variable_is_typed_and_described(module_name):
    for name, body in module(module_name).variables.items():
        assert body.get("type"), f"modules/{module_name}: variable {name} has no type"
        assert len(body.get("description", "")) >= 10, f"modules/{module_name}: variable {name} has no real description"


def test_every_output_is_described(module_name):
    for name, body in module(module_name).outputs.items():
        assert len(body.get("description", "")) >= 10, f"modules/{module_name}: output {name} has no description"


def test_every_provider_version_is_pinned_to_a_bounded_range(module_name):
    providers = module(module_name).required_providers()
    assert providers, f"modules/{module_name} declares no required_providers"
    for name, spec in providers.items():
        version = spec["version"]
        assert "<" in version or version.startswith("="), f"modules/{module_name}: {name} version {version!r} has no upper bound"


def test_module_readme_lists_every_input_and_output(module_name):
    readme = (MODULES / module_name / "README.md").read_text()
    config = module(module_name)
    for name in list(config.variables) + list(config.outputs):
        assert f"`{name}`" in readme, f"modules/{module_name}/README.md does not document `{name}`"


def test_readme_tables_are_current(module_name):
    # Regenerate with: <tools>/hcltest/bin/python infra/tests/readme_tables.py
    readme = (MODULES / module_name / "README.md").read_text()
    assert readme_tables.tables(module_name) in readme, f"modules/{module_name}/README.md tables are stale"


def test_modules_with_inputs_validate_some_of_them(module_name):
    validated = [n for n, b in module(module_name).variables.items() if b.get("validation")]
    assert validated, f"modules/{module_name} validates none of its inputs"


def test_environments_keep_state_in_an_encrypted_locked_s3_backend(env_name):
    backends = [b for t in env(env_name).terraform for b in t.get("backend", [])]
    s3 = one(backends)["s3"]
    assert s3["encrypt"] is True
    assert s3.get("kms_key_id"), "state must be encrypted with our key"
    assert s3.get("dynamodb_table"), "state needs a lock table"
    assert env_name in s3["key"] and env_name in s3["bucket"], "each environment has its own state"


def test_staging_and_prod_compose_the_same_modules_word_for_word():
    # The environments differ in terraform.tfvars only; a fix made in one file reaches both.
    for name in ("main.tf", "variables.tf", "outputs.tf", "providers.tf"):
        assert (ENVS / "staging" / name).read_text() == (ENVS / "prod" / name).read_text(), f"envs/*/{name} differ"


def test_environments_use_every_module():
    for env_name in ENV_NAMES:
        sources = {m["source"] for m in env(env_name).modules.values()}
        used = {s.rsplit("/", 1)[-1] for s in sources}
        assert used == {p.name for p in MODULES.iterdir() if p.is_dir()}, f"envs/{env_name} uses {sorted(used)}"


def test_every_environment_variable_has_a_value_or_comes_from_the_shell():
    for env_name in ENV_NAMES:
        config = env(env_name)
        values = parse(ENVS / env_name / "terraform.tfvars")
        for name, body in config.variables.items():
            if body.get("sensitive"):
                assert name not in values, f"envs/{env_name}: sensitive {name} must come from TF_VAR_{name}, not tfvars"
            elif "default" not in body:
                assert name in values, f"envs/{env_name}/terraform.tfvars does not set {name}"


def test_readme_draws_the_deployment_with_mermaid():
    readme = (INFRA / "README.md").read_text()
    assert "```mermaid" in readme
    for part in ("Cloud SQL", "ElastiCache", "Atlas", "Aura", "Timescale", "Qdrant", "VPN", "PrivateLink"):
        assert part in readme, f"infra/README.md does not mention {part}"


def test_runbook_covers_every_procedure_the_issue_names():
    runbook = (INFRA / "RUNBOOK.md").read_text()
    headings = [h.lower() for h in re.findall(r"^#+ (.+)$", runbook, re.M)]
    for topic in (
        "point in time", "fail over elasticache", "add a postgres shard", "scale atlas",
        "aura snapshot", "timescale retention", "qdrant snapshot", "rotate secrets",
    ):
        assert any(topic in h for h in headings), f"RUNBOOK.md has no section about {topic!r}"
