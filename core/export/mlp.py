"""Show the PyTorch: the book's MLP on Fashion-MNIST (core.experiments.mlp,
section 5.2), with the page's width and activation."""
from __future__ import annotations

from core.experiments import mlp as mlp_
from core.export import _ch3to7 as parts
from core.ops.activations import LEAKY_SLOPE

ACTIVATIONS = {"relu": "nn.ReLU()", "sigmoid": "nn.Sigmoid()", "tanh": "nn.Tanh()", "gelu": "nn.GELU()",
               "leaky_relu": f"nn.LeakyReLU({LEAKY_SLOPE!r})"}

BODY = '''

def run(data_dir, max_steps=None):
    train_data, test_data = load_data_fashion_mnist(data_dir)
    # The concise MLP (5.2.2): 784 inputs, one hidden layer, 10 outputs.
    net = nn.Sequential(nn.Flatten(), nn.Linear(784, NUM_HIDDENS), {activation}, nn.Linear(NUM_HIDDENS, 10))
    init_normal(net, SIGMA, gen_init)
    loss = nn.CrossEntropyLoss(reduction="none")
    trainer = torch.optim.SGD(net.parameters(), lr=LR)
    train(net, train_data, test_data, loss, trainer, NUM_EPOCHS, max_steps)
'''


def script(cfg: mlp_.Config, *, seed: int, data_dir: str, threads: int = 1) -> str:
    return "".join([
        parts.head(title="Multilayer perceptron", section="sections 5.1-5.2",
                   about="The book's MLP on Fashion-MNIST: 784 inputs, a hidden layer of NUM_HIDDENS units "
                         f"({cfg.activation}), 10 outputs, cross-entropy and minibatch SGD.",
                   imports=["argparse", "gzip", "json", "os", "struct"], seed=seed,
                   data_dir=data_dir, threads=threads,
                   data_note=parts.FASHION_NOTE,
                   constants={"NUM_HIDDENS": cfg.num_hiddens, "ACTIVATION": cfg.activation, "LR": cfg.lr,
                              "NUM_EPOCHS": cfg.num_epochs, "BATCH_SIZE": cfg.batch_size, "SIGMA": cfg.sigma}),
        parts.FASHION_MNIST, parts.DATA_ITER, parts.FASHION_MLP, parts.train_loop(),
        BODY.format(activation=ACTIVATIONS[cfg.activation]), parts.MAIN,
    ])
