"""Reading the satisfaction survey's questions from their YAML file, checked at load."""

from __future__ import annotations

from pathlib import Path

import yaml

from loket.domain.surveys import Survey, SurveySchemaError, parse_survey

# The source tree's content folder; a deployment may point LOKET_SURVEY_FILE elsewhere.
DEFAULT_SURVEY_FILE = Path(__file__).resolve().parents[2] / "content" / "survey" / "questions.yaml"


def load_survey(path: Path | None = None) -> Survey:
    """The survey; SurveySchemaError names the file and the fault if it is bad."""
    chosen = path or DEFAULT_SURVEY_FILE
    try:
        data = yaml.safe_load(chosen.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise SurveySchemaError(f"{chosen}: cannot be read: {error}") from None
    return parse_survey(data, chosen.name)
