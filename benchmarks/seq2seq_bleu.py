"""The book's seq2seq on English-French, and beam search batched versus one
hypothesis at a time.

1. Trains the book's encoder-decoder at the book's settings (section 10.7:
   embed 32, hidden 32, 2 GRU layers, dropout 0.1, num_steps 10, 600 pairs,
   batch 64, Adam lr 0.005, clipping 1, 300 epochs) on the real fra.txt and
   prints the final loss per token, tokens/sec, and the translations and BLEU
   (k = 2) of the book's four examples, greedy (as the book) and by beam search.
2. Times beam search per decoder step for k = 1..8 on the trained model:
   batched (one decoder call per step for all live hypotheses) versus
   batched=False (one call per hypothesis). The tree is recorded as on the page
   (max_children = 3).

    .venv/bin/python benchmarks/seq2seq_bleu.py [--data PATH/fra.txt] [--epochs 300] [--threads 1]

fra.txt: --data, else $PLAYGROUND_DATA_DIR/fra-eng/fra.txt, else ../shared/data/fra-eng/fra.txt.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import torch
from torch.nn import functional as F

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from core.experiments.seq2seq import BOOK, BOOK_EXAMPLES, load_corpus, make_trainer  # noqa: E402
from core.models.seq2seq import bleu, translate  # noqa: E402
from core.ops.beam import beam_search  # noqa: E402

BOOK_OUTPUT = {"go .": ("va !", 1.000), "i lost .": ("j'ai perdu .", 1.000),
               "he's calm .": ("il est riche .", 0.658), "i'm home .": ("je suis en retard ?", 0.447)}


def find_fra(arg: str | None) -> Path:
    candidates = [Path(arg)] if arg else []
    if os.environ.get("PLAYGROUND_DATA_DIR"):
        candidates.append(Path(os.environ["PLAYGROUND_DATA_DIR"]) / "fra-eng" / "fra.txt")
    candidates.append(ROOT.parent / "shared" / "data" / "fra-eng" / "fra.txt")
    for path in candidates:
        if path.is_file():
            return path
    sys.exit(f"fra.txt not found; tried {[str(p) for p in candidates]}")


def step_fn_for(net, src_ids, num_steps, src_vocab, tgt_vocab):
    """The same decoder step as core.models.seq2seq.translate, for calling beam_search directly."""
    ids = (src_ids + [src_vocab["<eos>"]])[:num_steps]
    valid = len(ids)
    ids += [src_vocab["<pad>"]] * (num_steps - len(ids))
    enc_X = torch.tensor([ids])
    context, hidden = net.decoder.init_state(net.encoder(enc_X, torch.tensor([valid])))

    def step_fn(prefixes, states):
        ctx, hid = states
        logits, (_, hid) = net.decoder(prefixes[:, -1:], (ctx, hid.transpose(0, 1).contiguous()))
        return F.log_softmax(logits[:, -1].double(), dim=-1), (ctx, hid.transpose(0, 1))

    return step_fn, (context, hidden.transpose(0, 1))


@torch.no_grad()
def time_beams(net, corpus, ks, repeats: int):
    """ms per decoder step, the median over `repeats` rounds; in each round the
    two ways run back to back on the four sentences (so load on a shared
    machine hits both alike)."""
    d = corpus.data
    net.eval()
    prepared = [step_fn_for(net, d.src_vocab[src.split()], BOOK.num_steps, d.src_vocab, d.tgt_vocab)
                for src in BOOK_EXAMPLES]
    rows = []
    for k in ks:
        per_round = {True: [], False: []}
        calls = {True: 0, False: 0}
        steps_total = {True: 0, False: 0}
        for _ in range(repeats):
            for batched in (True, False):
                steps, seconds = 0, 0.0
                for step_fn, state in prepared:
                    t0 = time.perf_counter()
                    res = beam_search(step_fn, d.tgt_vocab["<bos>"], d.tgt_vocab["<eos>"], k, BOOK.num_steps,
                                      init_state=state, batched=batched, max_children=3)
                    seconds += time.perf_counter() - t0
                    steps += len(res.tree) - 1
                    calls[batched] += res.calls
                per_round[batched].append(seconds / steps * 1e3)
                steps_total[batched] += steps
        rows.append({"k": k, "batched": statistics.median(per_round[True]),
                     "one_by_one": statistics.median(per_round[False]),
                     "calls_b": calls[True] / steps_total[True], "calls_1": calls[False] / steps_total[False]})
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data")
    ap.add_argument("--epochs", type=int, default=BOOK.num_epochs)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--repeats", type=int, default=20)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    path = find_fra(args.data)
    corpus = load_corpus(path=path, allow_download=False)
    d = corpus.data
    print(f"# Seq2seq on English-French ({path.name}), beam search timings\n")
    print(f"torch {torch.__version__}, CPU, {torch.get_num_threads()} thread(s), seed {args.seed}; "
          f"{len(d.src_array)} pairs, vocab {len(d.src_vocab)} / {len(d.tgt_vocab)}, "
          f"{args.epochs} epochs of {-(-len(d.src_array) // d.batch_size)} batches\n")

    t = make_trainer(d, seed=args.seed, num_epochs=args.epochs)
    t0 = time.perf_counter()
    t.advance()
    wall = time.perf_counter() - t0
    tokens = int(d.tgt_valid_len.sum()) * args.epochs
    last = t.history.epochs[-1]
    print("## Training\n")
    print("| epochs | final loss / token | first-epoch loss | wall s | tokens/sec |")
    print("|---:|---:|---:|---:|---:|")
    print(f"| {t.epoch} | {last['train_loss']:.4f} | {t.history.epochs[0]['train_loss']:.4f} | {wall:.1f} "
          f"| {tokens / wall:,.0f} |\n")

    print("## The book's four examples (BLEU with k = 2)\n")
    print("| English | reference | book (greedy) | ours, greedy | BLEU | ours, beam k=3 α=.75 | BLEU |")
    print("|---|---|---|---|---:|---|---:|")
    for src, ref in BOOK_EXAMPLES.items():
        greedy = translate(t.net, src, d.src_vocab, d.tgt_vocab, BOOK.num_steps, k=1).text
        beam = translate(t.net, src, d.src_vocab, d.tgt_vocab, BOOK.num_steps, k=3, alpha=0.75).text
        book, book_bleu = BOOK_OUTPUT[src]
        print(f"| {src} | {ref} | {book} ({book_bleu:.3f}) | {greedy} | {bleu(greedy, ref, 2):.3f} "
              f"| {beam} | {bleu(beam, ref, 2):.3f} |")

    print(f"\n## Beam search, ms per decoder step (median of {args.repeats} rounds over the four sentences)\n")
    print("| k | batched ms/step | one hypothesis at a time ms/step | speed-up "
          "| model calls/step (batched, one by one) |")
    print("|---:|---:|---:|---:|---:|")
    for r in time_beams(t.net, corpus, range(1, 9), args.repeats):
        print(f"| {r['k']} | {r['batched']:.3f} | {r['one_by_one']:.3f} | {r['one_by_one'] / r['batched']:.2f}x "
              f"| {r['calls_b']:.1f}, {r['calls_1']:.1f} |")


if __name__ == "__main__":
    main()
