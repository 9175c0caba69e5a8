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


def parameter_frame(info: dict) -> pd.DataFrame:
    """The parameter table of inspect() as a DataFrame (lazy shapes as 'uninitialized')."""
    rows = []
    for r in info["parameters"]:
        rows.append({"name": r["name"] + (f" (also {', '.join(r['also'])})" if r["also"] else ""),
                     "shape": "uninitialized" if r["shape"] is None else format_shape(r["shape"]),
                     "count": r["count"], "mean": r["mean"], "std": r["std"], "min": r["min"], "max": r["max"]})
    return pd.DataFrame(rows, columns=["name", "shape", "count", "mean", "std", "min", "max"])


def module_frame(info: dict) -> pd.DataFrame:
    """The module tree as rows, names indented by depth."""
    rows = []
    for r in info["modules"]:
        shapes = [format_shape(s) for s in r["outputs"]]
        rows.append({"module": "\u2003" * r["depth"] + (r["name"] or "(net)"), "class": r["class"],
                     "output shape": " | ".join(shapes) if shapes else "",
                     "own parameters": "?" if r["params"] is None else r["params"],
                     "note": f"same module as {r['same_as']}" if r["same_as"] is not None else ""})
    return pd.DataFrame(rows)


def show_info(info: dict, *, title: str = "net", tree: bool = True) -> None:
    """Draw an inspect() result: metrics, the tree (graph and rows) and the parameter table."""
    c = st.columns(3)
    c[0].metric("parameters (total)", f"{info['total']:,}")
    c[1].metric("parameter tensors", f"{len(info['parameters'])}")
    c[2].metric("output shape", format_shape(info["output"]) if info["output"] is not None else "not run yet")
    if info["uninitialized"]:
        st.caption(f":material/hourglass_empty: {info['uninitialized']} parameter tensor(s) still uninitialized: "
                   "their shapes are unknown until the first batch.")
    if tree:
        left, right = st.columns([2, 3])
        left.graphviz_chart(module_dot(info, title), width="stretch")
        right.dataframe(module_frame(info), hide_index=True, width="stretch")
    st.dataframe(parameter_frame(info).style.format({c: "{:.4g}" for c in ("mean", "std", "min", "max")},
                                                    na_rep="-"),
                 hide_index=True, width="stretch")
    if info["constants"]:
        st.caption("Tensors held by a module that are not parameters (constants, never trained): " + ", ".join(
            f"`{c['name']}` ({format_shape(c['shape'])})" for c in info["constants"]))


def show(net: nn.Module, X: torch.Tensor | None = None, *, title: str = "net") -> dict:
    """Inspect `net` on the sample input `X` and draw it; returns the inspect() result."""
    info = inspect(net, X)
    show_info(info, title=title)
    return info
