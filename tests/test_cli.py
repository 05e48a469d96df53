"""The CLI: every command runs, bad input gives one line on stderr and exit 2, never a traceback."""

import json

import pytest

from ts_instruct.cli import COMMANDS, main


def test_every_command_has_help(capsys):
    for name in COMMANDS:
        with pytest.raises(SystemExit) as e:
            main([name, "--help"])
        assert e.value.code == 0
        assert name in capsys.readouterr().out


def test_list_shows_every_converter_as_json(capsys):
    assert main(["list", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert "nwpu_resisc45" in {r["name"] for r in rows}
    assert all(r["layout"] and r["license"] for r in rows)


@pytest.mark.parametrize(
    "argv, message",
    [
        (["convert", "no_such_dataset", "--root", ".", "--out", "o"], "no converter named 'no_such_dataset'"),
        (["convert", "nwpu_resisc45", "--root", "/nonexistent/raw", "--out", "o"], "not found in root="),
        (["convert", "nwpu_resisc45", "--root", ".", "--out", "o", "--style", "gpt"], "style"),
        (["convert", "nwpu_resisc45", "--root", ".", "--out", "o", "--workers", "0"], "--workers must be >= 1"),
        (["convert", "nwpu_resisc45", "--root", ".", "--out", "o", "-o", "bogus=1"], "unknown option"),
        (["make-fake", "nope", "--root", "x"], "no fake dataset for 'nope'"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(argv, message, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_convert_then_validate(tmp_path, capsys):
    assert main(["make-fake", "nwpu_resisc45", "--root", str(tmp_path / "raw")]) == 0
    assert (
        main(
            [
                "convert",
                "nwpu_resisc45",
                "--root",
                str(tmp_path / "raw"),
                "--out",
                str(tmp_path / "out"),
                "--style",
                "qwen3vl",
                "--workers",
                "2",
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "test           3 samples" in out and "1 skipped" in out
    assert main(["validate", str(tmp_path / "out")]) == 0
    assert "OK: 22 records" in capsys.readouterr().out
    # break one record: validate must fail with exit 1
    shard = next((tmp_path / "out" / "nwpu_resisc45").glob("train-*.jsonl"))
    lines = shard.read_text(encoding="utf-8").splitlines()
    rec = json.loads(lines[0])
    rec["images"] = []
    shard.write_text("\n".join([json.dumps(rec), *lines[1:]]) + "\n", encoding="utf-8")
    assert main(["validate", str(tmp_path / "out")]) == 1
    assert "placeholder" in capsys.readouterr().out


def test_validate_on_an_empty_folder_fails(tmp_path, capsys):
    assert main(["validate", str(tmp_path)]) == 1
