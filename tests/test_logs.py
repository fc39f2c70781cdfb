import json
import logging

import pytest

from picloud.logs import configure_logging, execution_id_var, request_id_var


@pytest.fixture
def restore_logging():
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def test_json_lines_carry_the_execution_id(capsys, restore_logging) -> None:
    configure_logging("json", "info")
    token = execution_id_var.set("0f0e-exec")
    try:
        logging.getLogger("picloud.test").warning("worker %s died", 7)
    finally:
        execution_id_var.reset(token)
    logging.getLogger("picloud.test").info("outside a request")
    first, second = (json.loads(line) for line in capsys.readouterr().err.splitlines())
    assert first["message"] == "worker 7 died"
    assert first["level"] == "WARNING"
    assert first["logger"] == "picloud.test"
    assert first["execution_id"] == "0f0e-exec"
    assert "time" in first
    assert second["execution_id"] is None


def test_text_lines_name_the_execution(capsys, restore_logging) -> None:
    configure_logging("text", "debug")
    token = execution_id_var.set("abc")
    try:
        logging.getLogger("picloud.test").debug("hello")
    finally:
        execution_id_var.reset(token)
    assert capsys.readouterr().err.rstrip().endswith("DEBUG picloud.test hello [execution abc]")


def test_control_plane_lines_carry_the_request_id(capsys, restore_logging) -> None:
    configure_logging("json", "info")
    token = request_id_var.set("r-42")
    try:
        logging.getLogger("picloud.manager").error("admin API failed")
    finally:
        request_id_var.reset(token)
    line = json.loads(capsys.readouterr().err)
    assert (line["request_id"], line["execution_id"]) == ("r-42", None)
