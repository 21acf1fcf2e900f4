"""Reading the report and tip forms from their YAML files, checked against the schema at load."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import yaml

from loket.domain.catalogue import ServiceKind, service_by_code
from loket.domain.errors import NotFound
from loket.domain.forms import Form, FormSchemaError, parse_form

# The source tree's content folder; a deployment may point LOKET_FORMS_DIR elsewhere.
DEFAULT_FORMS_DIR = Path(__file__).resolve().parents[2] / "content" / "forms"


def load_form(path: Path) -> Form:
    """One form file; FormSchemaError with the file, the place and the fault if it is bad."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        raise FormSchemaError(f"{path.name}: not valid YAML: {error}") from None
    form = parse_form(data, path.name)
    if path.stem != form.code:
        raise FormSchemaError(f"{path.name}: code {form.code!r} must match the file name")
    try:
        service = service_by_code(form.code)
    except NotFound:
        raise FormSchemaError(f"{path.name}: {form.code!r} is not in the catalogue") from None
    if service.kind not in (ServiceKind.REPORT, ServiceKind.TIP):
        raise FormSchemaError(f"{path.name}: {form.code!r} is not a report or a tip")
    return form


def load_forms(directory: Path | None = None) -> dict[str, Form]:
    """Every form in the folder by code; a bad file stops the start with its message."""
    folder = directory or DEFAULT_FORMS_DIR
    if not folder.is_dir():
        raise FormSchemaError(f"{folder}: the forms folder does not exist")
    return {form.code: form for form in _each(sorted(folder.glob("*.yaml")))}


def _each(paths: Iterable[Path]) -> Iterable[Form]:
    for path in paths:
        yield load_form(path)
