"""Link parameters: short ids, clamped or defaulted with a notice that names what changed."""

import pytest

from ui.links import ChoiceParam, FloatParam, IntParam, fmt, parse

PARAMS = [IntParam("sample", 0, 0, 359), IntParam("noise", 1, 0, 8), FloatParam("theta", 0.5, -0.5, 2.0, 0.05),
          ChoiceParam("mode", "mask", ("mask", "freeze"))]


def test_valid_values_pass_without_notice():
    values, notices = parse({"sample": "12", "noise": "0", "theta": "1.25", "mode": "freeze"}, PARAMS)
    assert values == {"sample": 12, "noise": 0, "theta": 1.25, "mode": "freeze"} and notices == []


@pytest.mark.parametrize("key, given, used, says", [
    ("sample", "100000", 359, "`sample=100000` is outside 0–359: showing `359`"),
    ("sample", "-1", 0, "`sample=-1` is outside 0–359: showing `0`"),
    ("sample", "2.6", 3, "`sample=2.6` is not a whole number: showing `3`"),
    ("noise", "abc", 1, "`noise=abc` is not a number: showing the default `1`"),
    ("noise", "inf", 1, "`noise=inf` is not a number: showing the default `1`"),
    ("theta", "0.73", 0.75, "`theta=0.73` is not on the 0.05 grid: showing `0.75`"),
    ("theta", "9", 2.0, "`theta=9` is outside -0.5–2: showing `2`"),
    ("theta", "nan", 0.5, "`theta=nan` is not a number: showing the default `0.5`"),
    ("mode", "freeze (paper)", "mask", "`mode=freeze (paper)` is not one of mask, freeze: showing `mask`"),
])
def test_bad_values_are_replaced_and_said(key, given, used, says):
    values, notices = parse({key: given}, PARAMS)
    assert values == {key: used} and notices == [says]


def test_unknown_keys_are_reported_only_when_asked():
    assert parse({"data_dir": "/root"}, PARAMS) == ({}, [])
    assert parse({"data_dir": "/root", "model": "x"}, PARAMS, others=("model",)) == (
        {}, ["`data_dir` is not a setting of this app: ignored"])


def test_long_values_are_cut_in_the_notice():
    _, (notice,) = parse({"mode": "x" * 500}, PARAMS)
    assert len(notice) < 120


def test_written_values_read_back_unchanged():
    for p, value in ((PARAMS[2], -0.45), (PARAMS[2], 0.1), (PARAMS[0], 7)):
        assert parse({p.key: fmt(value)}, [p]) == ({p.key: value}, [])
