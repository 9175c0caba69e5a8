"""What every character-level language-model page shares: The Time Machine
(or its stand-in, or the user's text), and training and validation perplexity
on one chart with the book's printed figures named by edition, because the
editions print different perplexities (the 0.x editions training perplexity
after 500 epochs, the 1.0 edition validation perplexity)."""
from __future__ import annotations

import streamlit as st

from core.data.text import load_corpus_time_machine
from core.experiments import gru_lstm as gl
from core.train.lm import perplexity
from playground import controls
from playground.data import dataset
from playground.i18n import t
from playground.live import Chart


def time_machine(upload: bool = True):
    """(corpus, vocab) of The Time Machine by characters; the stand-in or an
    uploaded text when the file is missing; None after the page said why."""
    return dataset(t("lm_charts.time_machine"), load_corpus_time_machine, cache_key="timemachine:char",
                   stand_in=(t("lm_charts.stand_in", repeats=gl.STAND_IN_REPEATS), gl.stand_in_corpus),
                   upload=(t("lm_charts.upload"), ["txt"], gl.corpus_from_upload)
                   if upload else None)


def generation_inputs(text_label: str, text_key: str):
    """A prefix to generate from and a text to read the net on, side by side,
    both cleaned as the book preprocesses text; returns (prefix, text, the
    third column for the page's own toggles)."""
    c1, c2, c3 = st.columns(3)
    prefix = gl.clean_text(controls.text_input(t("lm_charts.prefix"), "prefix", "time traveller ", max_chars=80,
                                               container=c1))
    text = gl.clean_text(controls.text_input(text_label, text_key, "time traveller", max_chars=60, container=c2))
    return prefix, text, c3


def perplexity_chart(log_y: bool, *, book_train: float | None = None, book_train_note: str = "",
                     book_valid: float | None = None, book_valid_note: str = "") -> Chart:
    """Training perplexity (over each epoch's minibatches) and validation
    perplexity (the held-out end of the text, after each epoch)."""
    reference = []
    if book_train is not None:
        reference.append((book_train, t("lm_charts.book_train", value=f"{book_train:g}", note=book_train_note)))
    if book_valid is not None:
        reference.append((book_valid, t("lm_charts.book_valid", value=f"{book_valid:g}", note=book_valid_note)))
    return Chart(t("lm_charts.perplexity_title"), [("train_loss", t("lm_charts.training")),
                                                   ("test_loss", t("lm_charts.validation"))],
                 log_y=log_y, y_title=t("lm_charts.perplexity"), transform=perplexity, reference=reference)


def minibatch_perplexity_chart(log_y: bool) -> Chart:
    return Chart(t("lm_charts.minibatch_title"), [("loss", t("lm_charts.train"))], log_y=log_y, level="steps",
                 y_title=t("lm_charts.perplexity"), transform=perplexity)
