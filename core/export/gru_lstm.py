"""Show the PyTorch for the GRU and LSTM page (sections 10.1-10.2): a GRU or
LSTM language model on The Time Machine, from scratch or with nn.GRU / nn.LSTM."""
from __future__ import annotations

from core.export import _text

NAMES = {"gru": "GRU", "lstm": "LSTM"}
SECTIONS = {"gru": "10.2", "lstm": "10.1"}


def script(cfg, *, seed: int, data_dir: str) -> str:
    cell, scratch = NAMES[cfg.cell], cfg.impl == "scratch"
    if scratch:
        model = _text.GRU_SCRATCH if cfg.cell == "gru" else _text.LSTM_SCRATCH
        net_line = f"net = RNNLM({cell}Scratch(len(vocab), NUM_HIDDENS), len(vocab), NUM_HIDDENS)"
    else:
        model = f"\nCELL = nn.{cell}\n" + _text.CONCISE
        net_line = "net = RNNLM(concise_rnn(len(vocab), NUM_HIDDENS), len(vocab), NUM_HIDDENS)"
    return _text.lm_script(
        title=f"{cell} language model " + ("from scratch" if scratch else f"with nn.{cell}")
              + f" (d2l section {SECTIONS[cfg.cell]})",
        what=f"A character-level language model on The Time Machine: one-hot characters, a {cell} layer, a "
             "linear output layer; minibatch SGD on the cross-entropy per character with gradient clipping "
             "(train_ch8), sequential partitioning.",
        seed=seed, data_dir=data_dir, model=model, net_line=net_line,
        config=dict(NUM_HIDDENS=cfg.num_hiddens, MAX_TOKENS=cfg.max_tokens, NUM_EPOCHS=cfg.num_epochs, LR=cfg.lr,
                    BATCH_SIZE=cfg.batch_size, NUM_STEPS=cfg.num_steps, GRAD_CLIP=cfg.grad_clip,
                    USE_RANDOM_ITER=False, NUM_LAYERS=1, BIDIRECTIONAL=False, NUM_DIRECTIONS=1))
