"""Writes the Inputs and Outputs tables of every module README from the module's HCL.

    ~/.cache/polygate/infra-tools/hcltest/bin/python infra/tests/readme_tables.py          # rewrite
    ~/.cache/polygate/infra-tools/hcltest/bin/python infra/tests/readme_tables.py --check  # exit 1 if stale

The tables sit between `<!-- BEGIN_TF_DOCS -->` and `<!-- END_TF_DOCS -->`; the prose around them is
written by hand. (terraform-docs does the same job; it needs its own download, this needs nothing
beyond the test tools.) test_readme_tables_are_current in test_layout.py runs --check.
"""

from __future__ import annotations

import json
import re
import sys

from conftest import MODULE_NAMES, MODULES, module

BEGIN, END = "<!-- BEGIN_TF_DOCS -->", "<!-- END_TF_DOCS -->"


def short_type(expression: str) -> str:
    text = expression.removeprefix("${").removesuffix("}")
    return re.sub(r"\((object|map|list)\(\{.*\}\)\)", r"(\1({…}))", text) if len(text) > 40 else text


def cell(text: str) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


def default(body: dict) -> str:
    if "default" not in body:
        return "required"
    value = body["default"]
    if isinstance(value, str) and not value.startswith("${"):
        return f'`"{value}"`'
    rendered = json.dumps(value) if not isinstance(value, str) else value
    return "`" + cell(rendered) + "`" if len(rendered) <= 60 else "see variables.tf"


def tables(name: str) -> str:
    config = module(name)
    lines = ["## Inputs", "", "| name | type | default | description |", "|---|---|---|---|"]
    for var, body in config.variables.items():
        sensitive = " (sensitive)" if body.get("sensitive") and "sensitive" not in body["description"].lower() else ""
        lines.append(f"| `{var}` | `{cell(short_type(body['type']))}` | {default(body)} | {cell(body['description'])}{sensitive} |")
    lines += ["", "## Outputs", "", "| name | description |", "|---|---|"]
    for out, body in config.outputs.items():
        sensitive = " (sensitive)" if body.get("sensitive") and "sensitive" not in body["description"].lower() else ""
        lines.append(f"| `{out}` | {cell(body['description'])}{sensitive} |")
    return "\n".join([BEGIN, *lines, END])


def main() -> int:
    check = "--check" in sys.argv
    stale = []
    for name in MODULE_NAMES:
        path = MODULES / name / "README.md"
        text = path.read_text()
        if BEGIN not in text:
            text = text.rstrip() + "\n\n" + BEGIN + "\n" + END + "\n"
        head, rest = text.split(BEGIN, 1)
        _, tail = rest.split(END, 1)
        new = head + tables(name) + tail
        if new != text:
            stale.append(name)
            if not check:
                path.write_text(new)
    if check and stale:
        print("README tables out of date:", ", ".join(stale))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
