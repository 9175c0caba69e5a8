"""A model inspector any page can show: the module tree (Graphviz, drawn by the
browser), the parameter table and the total count, from
core.experiments.layers_parameters.inspect.

    from playground import inspector
    inspector.show(net, X)     # or inspector.show_info(inspect(net, X))
"""
from __future__ import annotations

import pandas as pd
import streamlit as st
import torch
from torch import nn

from core.experiments.layers_parameters import format_shape, inspect, module_dot

from .i18n import t

PARAMETER_COLUMNS = ("name", "shape", "count", "mean", "std", "min", "max")


def col(name: str) -> str:
    """A table's column header in this session's language (`name`: its English key)."""
    return t(f"inspector.col.{name}")


def parameter_frame(info: dict) -> pd.DataFrame:
    """The parameter table of inspect() as a DataFrame (lazy shapes as 'uninitialized'), its columns
    headed in this session's language (`col("name")`, ...)."""
    rows = []
    for r in info["parameters"]:
        rows.append({col("name"): t("inspector.also", name=r["name"], others=", ".join(r["also"])) if r["also"]
                     else r["name"],
                     col("shape"): t("inspector.uninitialized") if r["shape"] is None else format_shape(r["shape"]),
                     **{col(k): r[k] for k in ("count", "mean", "std", "min", "max")}})
    return pd.DataFrame(rows, columns=[col(k) for k in PARAMETER_COLUMNS])


def module_frame(info: dict) -> pd.DataFrame:
    """The module tree as rows, names indented by depth."""
    rows = []
    for r in info["modules"]:
        shapes = [format_shape(s) for s in r["outputs"]]
        rows.append({col("module"): "\u2003" * r["depth"] + (r["name"] or t("inspector.root")),
                     col("class"): r["class"], col("output_shape"): " | ".join(shapes) if shapes else "",
                     col("own_parameters"): "?" if r["params"] is None else r["params"],
                     col("note"): t("inspector.same_as", name=r["same_as"]) if r["same_as"] is not None else ""})
    return pd.DataFrame(rows)


def show_info(info: dict, *, title: str = "net", tree: bool = True) -> None:
    """Draw an inspect() result: metrics, the tree (graph and rows) and the parameter table."""
    c = st.columns(3)
    c[0].metric(t("inspector.total"), f"{info['total']:,}")
    c[1].metric(t("inspector.tensors"), f"{len(info['parameters'])}")
    c[2].metric(t("inspector.output_shape"),
                format_shape(info["output"]) if info["output"] is not None else t("inspector.not_run"))
    if info["uninitialized"]:
        st.caption(t("inspector.still_uninitialized", n=info["uninitialized"]))
    if tree:
        left, right = st.columns([2, 3])
        left.graphviz_chart(module_dot(info, title), width="stretch")
        right.dataframe(module_frame(info), hide_index=True, width="stretch")
    st.dataframe(parameter_frame(info).style.format({col(c): "{:.4g}" for c in ("mean", "std", "min", "max")},
                                                    na_rep="-"),
                 hide_index=True, width="stretch")
    if info["constants"]:
        st.caption(t("inspector.constants", names=", ".join(
            f"`{c['name']}` ({format_shape(c['shape'])})" for c in info["constants"])))


def show(net: nn.Module, X: torch.Tensor | None = None, *, title: str = "net") -> dict:
    """Inspect `net` on the sample input `X` and draw it; returns the inspect() result."""
    info = inspect(net, X)
    show_info(info, title=title)
    return info
