"""The one command line: verbs, help, unknown verbs, and each verb reaching its module."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

from cnnreport.__main__ import VERBS, main

ROOT = Path(__file__).resolve().parents[1]


def _run(*argv, cwd=None):
    return subprocess.run([sys.executable, "-m", "cnnreport", *argv], capture_output=True, text=True,
                          cwd=cwd or ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})


def test_help_lists_every_verb_and_imports_no_torch():
    p = subprocess.run([sys.executable, "-c", "import sys; from cnnreport.__main__ import main; main(['--help']);"
                        " print('torch' in sys.modules)"], capture_output=True, text=True, cwd=ROOT)
    assert p.returncode == 0 and p.stdout.strip().endswith("False")
    for verb in ("plan", "queue", "remote", "run", "book", "sweep", "data", "costs"):
        assert f"  {verb} " in p.stdout


def test_an_unknown_verb_names_the_verbs(capsys):
    assert main(["trian"]) == 2
    err = capsys.readouterr().err
    assert "unknown verb 'trian'" in err and "queue" in err


@pytest.mark.parametrize("verb", sorted(VERBS))
def test_every_verb_answers_help_with_its_own_arguments(verb):
    p = _run(verb, "--help")
    assert p.returncode == 0, p.stderr
    assert f"usage: cnnreport {verb}" in p.stdout


def test_a_verb_checks_its_arguments_before_any_work(tmp_path):
    p = _run("plan", "--profile", "full", "--tier", "7", cwd=tmp_path)
    assert p.returncode == 2 and "--tier: 7 is out of range" in p.stderr
