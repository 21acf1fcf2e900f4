"""The access log names no client: uvicorn's request lines and WebSocket handshakes alike."""

from __future__ import annotations

import logging
import logging.config

import pytest

from loket.web.access_log import HIDDEN, DropClientAddress, logging_config


def record(logger: str, msg: str, *args: object) -> logging.LogRecord:
    return logging.LogRecord(logger, logging.INFO, __file__, 1, msg, args, None)


def test_a_request_line_keeps_everything_but_the_address() -> None:
    line = record(
        "uvicorn.access",
        '%s - "%s %s HTTP/%s" %d',
        "203.0.113.7:5123",
        "POST",
        "/report/submit",
        "1.1",
        303,
    )
    assert DropClientAddress().filter(line)
    assert line.getMessage() == f'{HIDDEN} - "POST /report/submit HTTP/1.1" 303'


def test_a_websocket_handshake_loses_its_address_and_other_lines_stay_as_they_are() -> None:
    handshake = record(
        "uvicorn.error", '%s - "WebSocket %s" [accepted]', "203.0.113.7:5123", "/ws/t"
    )
    DropClientAddress().filter(handshake)
    assert "203.0.113.7" not in handshake.getMessage()
    other = record("uvicorn.error", "Started server process [%d]", 42)
    DropClientAddress().filter(other)
    assert other.getMessage() == "Started server process [42]"


def test_uvicorns_configuration_gets_the_filter_on_both_handlers(
    capsys: pytest.CaptureFixture[str],
) -> None:
    config = logging_config()
    assert config["handlers"]["access"]["filters"] == ["drop_client_address"]
    assert config["handlers"]["default"]["filters"] == ["drop_client_address"]
    names = ("uvicorn", "uvicorn.access", "uvicorn.error")
    saved = {
        name: {
            key: list(value) if isinstance(value, list) else value
            for key, value in vars(logging.getLogger(name)).items()
        }
        for name in names
    }
    logging.config.dictConfig(config)
    try:
        logging.getLogger("uvicorn.access").info(
            '%s - "%s %s HTTP/%s" %d', "198.51.100.9:4000", "GET", "/", "1.1", 200
        )
        logging.getLogger("uvicorn.error").info(
            '%s - "WebSocket %s" [accepted]', "198.51.100.9:4001", "/ws/screen"
        )
    finally:
        for name, state in saved.items():  # leave the loggers as the other tests had them
            vars(logging.getLogger(name)).update(state)
    output = capsys.readouterr()
    assert "198.51.100.9" not in output.out + output.err
    assert '"GET / HTTP/1.1" 200' in output.out
