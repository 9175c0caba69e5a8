"""Looking at the machine translation data set (book section 10.5): a check
for uploaded or pasted sentence pairs, the first pairs of a text, raw against
preprocessed lines, and sentence lengths."""
from __future__ import annotations

import numpy as np

from core.data.files import UploadError, decode_upload
from core.data.translation import build_nmt_data, preprocess_nmt, tokenize_nmt

# Sentence pairs written for the playground (English, a tab, French): the
# default of the "your pairs" box and the stand-in when fra-eng is missing.
SAMPLE_PAIRS = """\
Go.\tVa !
Hi.\tSalut !
Run!\tCours !
Stop!\tArrête !
I see.\tJe vois.
I know.\tJe sais.
Thanks!\tMerci !
Come in.\tEntre.
I'm cold.\tJ'ai froid.
I'm home.\tJe suis à la maison.
It's late.\tIl est tard.
Be quiet.\tSois calme.
I'm tired.\tJe suis fatigué.
We won.\tNous avons gagné.
Read this.\tLis ceci.
Who is it?\tQui est-ce ?
I like tea.\tJ'aime le thé.
It is cold.\tIl fait froid.
I am happy.\tJe suis heureux.
Open the door.\tOuvre la porte.
Where is the cat?\tOù est le chat ?
The cat is asleep.\tLe chat dort.
I like this book.\tJ'aime ce livre.
The book is on the table.\tLe livre est sur la table.
I read a book every week.\tJe lis un livre chaque semaine.
We are going to the station.\tNous allons à la gare.
Can you open the window, please?\tPeux-tu ouvrir la fenêtre, s'il te plaît ?
The weather is very nice today.\tIl fait très beau aujourd'hui.
My brother lives in a small house near the sea.\tMon frère habite une petite maison près de la mer.
I do not know where I left my keys this morning.\tJe ne sais pas où j'ai laissé mes clés ce matin.
"""


def is_pair(line: str) -> bool:
    """A line that tokenize_nmt turns into a sentence pair."""
    return len(line.split("\t")) >= 2


def count_pairs(text: str) -> int:
    return sum(1 for line in text.split("\n") if is_pair(line))


def head_pairs(text: str, n: int) -> str:
    """The text up to and including its n-th sentence pair: tokenize_nmt and
    load_data_nmt give the same result on it as on the whole text with
    num_examples=n, and preprocessing it is n pairs' work, not the file's."""
    out, found = [], 0
    for line in text.split("\n"):
        if found >= n:
            break
        out.append(line)
        found += is_pair(line)
    return "\n".join(out)


def validate_pairs_upload(data: bytes, max_bytes: int = 5_000_000) -> str:
    """Check uploaded or pasted sentence pairs (one pair a line: source, a tab,
    target) and return the text decoded with newlines normalised; UploadError
    (core.data.files) otherwise: 'no_pairs' when no line has a tab,
    'empty_pair' when every pair lacks its source or its target."""
    text = decode_upload(data, max_bytes, "text")
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    lines = [line for line in text.split("\n") if line.strip()]
    pairs = [line for line in lines if is_pair(line)]
    if not pairs:
        raise UploadError("no_pairs", lines=len(lines))
    if not any(p.split("\t")[0].strip() and p.split("\t")[1].strip() for p in pairs):
        raise UploadError("empty_pair")
    return text


def raw_and_preprocessed(text: str, n: int) -> list[tuple[str, str, str, str]]:
    """The first n pairs as (raw source, raw target, preprocessed source,
    preprocessed target)."""
    rows = []
    for line in head_pairs(text, n).split("\n"):
        if is_pair(line):
            src, tgt = line.split("\t")[:2]
            p_src, p_tgt = preprocess_nmt(line).split("\t")[:2]
            rows.append((src, tgt, p_src, p_tgt))
    return rows


def length_counts(source: list[list[str]], target: list[list[str]]):
    """Tokens per sentence: (lengths 0..max, source counts, target counts)."""
    src = np.array([len(s) for s in source], dtype=int)
    tgt = np.array([len(t) for t in target], dtype=int)
    top = int(max(src.max(initial=0), tgt.max(initial=0)))
    lengths = np.arange(top + 1)
    return lengths, np.bincount(src, minlength=top + 1), np.bincount(tgt, minlength=top + 1)


def truncated_share(sentences: list[list[str]], num_steps: int) -> float:
    """Share of sentences cut by truncate_pad: their tokens plus <eos> exceed num_steps."""
    if not sentences:
        return 0.0
    return sum(len(s) + 1 > num_steps for s in sentences) / len(sentences)


def nmt_view(text: str, num_examples: int, num_steps: int, batch_size: int = 8):
    """What load_data_nmt computes on `text` (the same steps, done once), with
    the token lists it builds them from: (source, target, NMTData)."""
    source, target = tokenize_nmt(preprocess_nmt(head_pairs(text, num_examples)), num_examples)
    return source, target, build_nmt_data(source, target, num_steps, batch_size)
