"""Issue 17, defect 4: one error boundary; expected failures are one ``error:`` line with exit code 2.

Real bugs keep their traceback; ``--debug`` or ``ANIME_GNN_DEBUG=1`` shows the traceback of
expected failures too. The issue's repro inputs are in ``test_hostile_inputs.py``.
"""

from __future__ import annotations

import csv
import errno
import json

import click
import pytest
from click.testing import CliRunner

from cli.errors import describe, guarded, one_line
from cli.main import _GuardedGroup, main
from gnn.errors import InputError, UsageError


def _json_error() -> json.JSONDecodeError:
    try:
        json.loads("[1,")
    except json.JSONDecodeError as err:
        return err
    raise AssertionError


@pytest.mark.parametrize("err, expected", [
    (InputError("a.json", "bad", record=3, field="id"), "a.json, record 3, field 'id': bad"),
    (UsageError("--x is wrong"), "--x is wrong"),
    (FileNotFoundError(errno.ENOENT, "No such file or directory", "data/x.csv"), "data/x.csv: No such file or "
                                                                                   "directory"),
    (PermissionError(errno.EACCES, "Permission denied", "out"), "out: Permission denied"),
    (IsADirectoryError(errno.EISDIR, "Is a directory", "cat.json"), "cat.json: Is a directory"),
    (UnicodeDecodeError("utf-8", b"\xff", 0, 1, "invalid start byte"), "not UTF-8 text (invalid start byte at byte 0)"),
    (_json_error(), "not valid JSON (Expecting value at line 1, column 4)"),
    (RecursionError("maximum recursion depth exceeded"), "input nested too deeply to read"),
    (csv.Error("field larger than field limit (131072)"), "not a readable CSV (field larger than field limit"),
])
def test_expected_failures_get_a_message(err, expected):
    assert expected in describe(err)


@pytest.mark.parametrize("err", [KeyError("x"), ZeroDivisionError(), TypeError("bad operand"), ValueError("bug"),
                                 AttributeError("x"), RuntimeError("state_dict")])
def test_bugs_get_no_message(err):
    assert describe(err) is None


def test_onnxruntime_errors_are_expected():
    import onnxruntime as ort

    try:
        ort.InferenceSession(b"not a model")
    except Exception as err:  # noqa: BLE001 - whatever onnxruntime raises
        assert describe(err).startswith("ONNX Runtime could not load or run the model")
    else:
        raise AssertionError("onnxruntime accepted garbage")


def test_messages_are_one_short_line():
    assert one_line("a\nb\r\nc") == "a b c"
    assert len(one_line("x" * 10_000)) == 500


def _group(exc: BaseException) -> click.Group:
    @click.group(cls=_GuardedGroup)
    @click.option("--debug", is_flag=True)
    def group(debug: bool) -> None:
        pass

    @group.command()
    def boom() -> None:
        raise exc

    return group


def test_the_group_is_the_boundary_for_every_command(monkeypatch):
    monkeypatch.delenv("ANIME_GNN_DEBUG", raising=False)
    result = CliRunner().invoke(_group(OSError(errno.EACCES, "Permission denied", "/x")), ["boom"])
    assert result.exit_code == 2 and result.stderr == "error: /x: Permission denied\n"
    bug = CliRunner().invoke(_group(KeyError("oops")), ["boom"])
    assert bug.exit_code == 1 and isinstance(bug.exception, KeyError)  # a bug keeps its traceback


def test_debug_flag_and_environment_show_tracebacks(monkeypatch):
    monkeypatch.delenv("ANIME_GNN_DEBUG", raising=False)
    group = _group(UsageError("expected"))
    debug = CliRunner().invoke(group, ["--debug", "boom"])
    assert isinstance(debug.exception, UsageError)
    monkeypatch.setenv("ANIME_GNN_DEBUG", "1")
    assert isinstance(CliRunner().invoke(group, ["boom"]).exception, UsageError)
    monkeypatch.setenv("ANIME_GNN_DEBUG", "0")
    assert CliRunner().invoke(group, ["boom"]).exit_code == 2


def test_guarded_commands_alone(monkeypatch):
    monkeypatch.delenv("ANIME_GNN_DEBUG", raising=False)

    @click.command()
    @guarded
    def alone() -> None:
        raise InputError("f.csv", "line\nbreak")

    result = CliRunner().invoke(alone, [])
    assert result.exit_code == 2 and result.stderr == "error: f.csv: line break\n"


def test_main_has_a_debug_option():
    assert "--debug" in CliRunner().invoke(main, ["--help"]).output
