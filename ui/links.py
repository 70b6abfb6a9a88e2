"""Shareable links: every setting of a page in the URL as a short, stable identifier.

A page declares its parameters; on the session's first run the link's values seed the
widgets. A missing value takes the default; a malformed or out-of-range one is replaced by
the nearest valid value (clamped, snapped to the slider's step) or the default, and a notice
names the parameter, the value given and the value used. After every run the page writes
its current values back, so the address bar is always a link to what is on screen. Server
paths never travel in a link: datasets and checkpoints are chosen by name.

``parse`` is a pure function (tested on its own); the rest is the Streamlit glue.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Mapping, Sequence, Union
from urllib.parse import urlencode

import streamlit as st


@dataclass(frozen=True)
class IntParam:
    key: str  # the name in the link
    default: int
    lo: int
    hi: int
    state: str | None = None  # the widget's session-state key, when it differs from the name


@dataclass(frozen=True)
class FloatParam:
    key: str
    default: float
    lo: float
    hi: float
    step: float
    state: str | None = None


@dataclass(frozen=True)
class ChoiceParam:
    key: str
    default: str
    choices: tuple[str, ...]
    state: str | None = None


@dataclass(frozen=True)
class TextParam:
    key: str
    default: str
    check: Callable[[str], object]  # raises ValueError (with the reason) for a value it cannot take
    state: str | None = None


Param = Union[IntParam, FloatParam, ChoiceParam, TextParam]


def _number(text: str) -> float | None:
    try:
        value = float(text)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


def read(param: Param, text: str) -> tuple[object, str | None]:
    """The value a link's ``text`` gives ``param``, and a notice when it was not usable as given."""
    given = f"`{param.key}={text[:40]}`"
    if isinstance(param, TextParam):
        try:
            param.check(text)
        except ValueError as e:
            return param.default, f"{given}: {e}; ignored"
        return text, None
    if isinstance(param, ChoiceParam):
        if text in param.choices:
            return text, None
        return param.default, f"{given} is not one of {', '.join(param.choices)}: showing `{param.default}`"
    value = _number(text)
    if value is None:
        return param.default, f"{given} is not a number: showing the default `{param.default}`"
    if isinstance(param, IntParam):
        used = int(min(max(round(value), param.lo), param.hi))
        if used != value:
            why = f"is outside {param.lo}–{param.hi}" if not param.lo <= value <= param.hi else "is not a whole number"
            return used, f"{given} {why}: showing `{used}`"
        return used, None
    clamped = min(max(value, param.lo), param.hi)
    used = round(param.lo + round((clamped - param.lo) / param.step) * param.step, 6)
    used = min(max(used, param.lo), param.hi)
    if abs(used - value) > 1e-9:
        why = f"is outside {param.lo:g}–{param.hi:g}" if clamped != value else f"is not on the {param.step:g} grid"
        return used, f"{given} {why}: showing `{used:g}`"
    return used, None


def parse(raw: Mapping[str, str], params: Sequence[Param], others: Sequence[str] | None = None) -> tuple[dict, list[str]]:
    """Values for the ``params`` present in ``raw`` (by link name), and notices for the ones changed.

    With ``others`` (the link names the rest of the app reads), keys nobody reads are reported too.
    """
    values, notices = {}, []
    for p in params:
        if p.key in raw:
            values[p.key], notice = read(p, str(raw[p.key]))
            if notice:
                notices.append(notice)
    if others is not None:
        known = {p.key for p in params} | set(others)
        notices += [f"`{key}` is not a setting of this app: ignored" for key in raw if key not in known]
    return values, notices


def fmt(value: object) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


# ---------------------------------------------------------------- Streamlit glue

_READ, _NOTICES = "_links_read", "_links_notices"


def seed_from_url(scope: str, params: Sequence[Param], others: Sequence[str] | None = None) -> None:
    """On the session's first run of ``scope``, set the widgets' state from the link; defaults otherwise.

    Call before the widgets are created; they must not be given a ``value`` of their own.
    """
    done = st.session_state.setdefault(_READ, set())
    if scope not in done:
        done.add(scope)
        values, notices = parse(dict(st.query_params), params, others)
        by_key = {p.key: p for p in params}
        for key, value in values.items():
            st.session_state[by_key[key].state or key] = value
        st.session_state.setdefault(_NOTICES, []).extend(notices)
    for p in params:  # defaults, and values made invalid since (e.g. a sample index past a smaller dataset's end)
        key = p.state or p.key
        value = st.session_state.setdefault(key, p.default)
        if isinstance(p, ChoiceParam):
            if value not in p.choices:
                st.session_state[key] = p.default
        elif isinstance(p, (IntParam, FloatParam)) and not p.lo <= value <= p.hi:
            st.session_state[key] = min(max(value, p.lo), p.hi)


def read_again(*scopes: str) -> None:
    """Let the next page read these scopes from its link again (a link followed inside the app, in the same tab,
    carries settings the session's widgets must take)."""
    st.session_state.setdefault(_READ, set()).difference_update(scopes)


def notice(text: str) -> None:
    """Add a notice to show with the link's (e.g. settings a checkpoint cannot use)."""
    st.session_state.setdefault(_NOTICES, []).append(text)


def show_notices() -> None:
    """Show (once) what the link asked for that could not be shown as asked."""
    notices = st.session_state.pop(_NOTICES, [])
    if notices:
        st.warning("**This link asked for settings that cannot be shown as given.**\n\n"
                   + "\n".join(f"- {n}" for n in dict.fromkeys(notices)), icon=":material/link_off:")


def absolute(values: Mapping[str, object]) -> str:
    """The full address of this page with these values: a link that works pasted anywhere, not only on this page."""
    query = urlencode({k: fmt(v) for k, v in values.items() if v is not None})
    here = st.context.url  # None where no browser told it (AppTest): then the link is relative to this page
    return f"{here.split('?')[0] if here else ''}?{query}"


def publish(values: Mapping[str, object]) -> None:
    """Make the address bar a link to these values (written only when it changes)."""
    wanted = {k: fmt(v) for k, v in values.items() if v is not None}
    if dict(st.query_params) != wanted:
        st.query_params.from_dict(wanted)
