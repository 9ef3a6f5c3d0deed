"""Item 1 and 5: no secret is written in infra/. Credentials come from the applying shell or are
generated into the encrypted state and handed to the services through Secrets Manager."""

import re

from conftest import INFRA, MODULE_NAMES, module, text_files

SECRET_ATTRIBUTE = re.compile(
    r"(?<![\w.])(?:\w*_)?(password|passwords|secret|secret_key|access_key|api_key|auth_token|client_secret|token|private_key|shared_secret|preshared_key)\w*\s*=\s*([^\n}]+)",
    re.I,
)
LOOKS_LIKE_A_KEY = [
    re.compile(r"AKIA[0-9A-Z]{16}"),                       # AWS access key id
    re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----"),     # PEM private key
    re.compile(r"AIza[0-9A-Za-z_-]{35}"),                  # Google API key
    re.compile(r"\bghp_[0-9A-Za-z]{36}\b"),                # GitHub token
    re.compile(r"\bxox[abpr]-[0-9A-Za-z-]{10,}"),          # Slack token
]


def test_no_secret_attribute_is_given_a_literal():
    offenders = []
    for path in text_files():
        if path.suffix not in (".tf", ".tfvars"):
            continue
        for match in SECRET_ATTRIBUTE.finditer(path.read_text()):
            value = match.group(2).strip()
            literal = value.startswith('"') and "${" not in value
            if literal or value.startswith("[\""):
                offenders.append(f"{path.relative_to(INFRA)}: {match.group(0).strip()}")
    assert not offenders, "secrets written in code:\n" + "\n".join(offenders)


def test_no_file_contains_something_shaped_like_a_credential():
    offenders = []
    for path in text_files():
        text = path.read_text(errors="replace")
        for pattern in LOOKS_LIKE_A_KEY:
            if path.name.startswith("test_"):
                continue
            if pattern.search(text):
                offenders.append(f"{path.relative_to(INFRA)}: {pattern.pattern}")
    assert not offenders, "\n".join(offenders)


def test_outputs_that_carry_credentials_are_sensitive():
    words = ("url", "password", "api_key", "key")
    for name in MODULE_NAMES:
        for output, body in module(name).outputs.items():
            value = str(body.get("value", ""))
            carries = "random_password" in value or ".password" in value or ".key}" in value or "api_key" in output
            if carries:
                assert body.get("sensitive") is True, f"modules/{name}: output {output} carries a credential but is not sensitive"
            assert words  # the tuple documents what "carries" looks for


def test_generated_passwords_never_use_characters_that_break_a_url():
    for name in MODULE_NAMES:
        for resource_name, body in module(name).resources.get("random_password", {}).items():
            assert body.get("special") is False, f"modules/{name}: random_password.{resource_name} may produce URL-breaking characters"
            assert body["length"] >= 32, f"modules/{name}: random_password.{resource_name} is short"
