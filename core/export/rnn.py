"""Show the PyTorch for the RNN page (sections 9.4-9.6): the character-level
RNN language model on The Time Machine, from scratch or with nn.RNN,
sequential or random partitioning."""
from __future__ import annotations

from core.export import _text


def script(cfg, *, seed: int, data_dir: str) -> str:
    scratch = cfg.impl == "scratch"
    if scratch:
        model = _text.RNN_SCRATCH
        net_line = "net = RNNLM(RNNScratch(len(vocab), NUM_HIDDENS), len(vocab), NUM_HIDDENS)"
    else:
        model = "\nCELL = nn.RNN\n" + _text.CONCISE
        net_line = "net = RNNLM(concise_rnn(len(vocab), NUM_HIDDENS), len(vocab), NUM_HIDDENS)"
    return _text.lm_script(
        title="Recurrent neural networks " + ("from scratch (d2l sections 9.4-9.5)" if scratch
                                              else "with nn.RNN (d2l sections 9.4, 9.6)"),
        what="A character-level language model on The Time Machine: one-hot characters, a recurrent layer "
             "H_t = tanh(X_t W_xh + H_{t-1} W_hh + b_h), a linear output layer; minibatch SGD on the "
             "cross-entropy per character with gradient clipping (train_ch8).",
        seed=seed, data_dir=data_dir, model=model, net_line=net_line,
        config=dict(NUM_HIDDENS=cfg.num_hiddens, MAX_TOKENS=cfg.max_tokens, NUM_EPOCHS=cfg.num_epochs, LR=cfg.lr,
                    BATCH_SIZE=cfg.batch_size, NUM_STEPS=cfg.num_steps, GRAD_CLIP=cfg.grad_clip,
                    USE_RANDOM_ITER=cfg.partition == "random", NUM_LAYERS=1, BIDIRECTIONAL=False,
                    NUM_DIRECTIONS=1))
