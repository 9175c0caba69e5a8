"""Show the PyTorch for the deep RNN page (section 10.3): GRU or LSTM layers
stacked 1-4 deep, with nn.GRU / nn.LSTM(num_layers) or scratch cells stacked by hand."""
from __future__ import annotations

from core.export import _text

NAMES = {"gru": "GRU", "lstm": "LSTM"}


def script(cfg, *, seed: int, data_dir: str) -> str:
    cell, scratch = NAMES[cfg.cell], cfg.impl == "scratch"
    if scratch and cfg.num_layers > 1:
        model = ((_text.GRU_SCRATCH if cfg.cell == "gru" else _text.LSTM_SCRATCH)
                 + f"\n\nCELL = {cell}Scratch" + _text.STACKED_SCRATCH)
        net_line = ("net = RNNLM(StackedRNNScratch(len(vocab), NUM_HIDDENS, NUM_LAYERS), len(vocab), "
                    "NUM_HIDDENS)")
    elif scratch:
        model = _text.GRU_SCRATCH if cfg.cell == "gru" else _text.LSTM_SCRATCH
        net_line = f"net = RNNLM({cell}Scratch(len(vocab), NUM_HIDDENS), len(vocab), NUM_HIDDENS)"
    else:
        model = f"\nCELL = nn.{cell}\n" + _text.CONCISE
        net_line = "net = RNNLM(concise_rnn(len(vocab), NUM_HIDDENS), len(vocab), NUM_HIDDENS)"
    return _text.lm_script(
        title=f"Deep recurrent neural networks: {cfg.num_layers} {cell} layer{'s' if cfg.num_layers > 1 else ''} "
              + ("from scratch" if scratch else f"with nn.{cell}(num_layers)") + " (d2l section 10.3)",
        what=f"A character-level language model on The Time Machine: one-hot characters, {cfg.num_layers} stacked "
             f"{cell} layers (each reading the hidden states of the one below), a linear output layer; minibatch "
             "SGD on the cross-entropy per character with gradient clipping (train_ch8), sequential partitioning.",
        seed=seed, data_dir=data_dir, model=model, net_line=net_line,
        config=dict(NUM_LAYERS=cfg.num_layers, NUM_HIDDENS=cfg.num_hiddens, MAX_TOKENS=cfg.max_tokens,
                    NUM_EPOCHS=cfg.num_epochs, LR=cfg.lr, BATCH_SIZE=cfg.batch_size, NUM_STEPS=cfg.num_steps,
                    GRAD_CLIP=cfg.grad_clip, USE_RANDOM_ITER=False, BIDIRECTIONAL=False, NUM_DIRECTIONS=1))
