"""Show the PyTorch: dropout (core.experiments.dropout, section 5.6), the
book's MLP with two hidden layers and dropout after each, on Fashion-MNIST."""
from __future__ import annotations

from core.experiments import dropout as dropout_
from core.export import _ch3to7 as parts

DROPOUT = '''

class Dropout(nn.Module):
    """The book's dropout_layer (5.6.2) as a module: in training mode each
    element is zeroed with probability p and the survivors are scaled by
    1 / (1 - p); in eval mode it passes X on. The masks are drawn from
    gen_noise, the run's own generator."""

    def __init__(self, p):
        super().__init__()
        self.p = p

    def forward(self, X):
        if not self.training or self.p == 0:
            return X
        if self.p == 1:
            return torch.zeros_like(X)
        mask = torch.rand(X.shape, generator=gen_noise) > self.p
        return mask.float() * X / (1.0 - self.p)
'''

BODY = '''

def run(data_dir, max_steps=None):
    train_data, test_data = load_data_fashion_mnist(data_dir)
    # The concise dropout MLP (5.6.3).
    net = nn.Sequential(nn.Flatten(),
                        nn.Linear(784, NUM_HIDDENS1), nn.ReLU(), Dropout(DROPOUT1),
                        nn.Linear(NUM_HIDDENS1, NUM_HIDDENS2), nn.ReLU(), Dropout(DROPOUT2),
                        nn.Linear(NUM_HIDDENS2, 10))
    init_normal(net, 0.01, gen_init)
    loss = nn.CrossEntropyLoss(reduction="none")
    trainer = torch.optim.SGD(net.parameters(), lr=LR)
    train(net, train_data, test_data, loss, trainer, NUM_EPOCHS, max_steps)
'''


def script(cfg: dropout_.Config, *, seed: int, data_dir: str, threads: int = 1) -> str:
    return "".join([
        parts.head(title="Dropout", section="section 5.6",
                   about="The book's MLP on Fashion-MNIST with two hidden layers of ReLU units and dropout "
                         "after each (p1 = DROPOUT1, p2 = DROPOUT2), cross-entropy and minibatch SGD.",
                   imports=["argparse", "gzip", "json", "os", "struct"], seed=seed,
                   data_dir=data_dir, threads=threads,
                   data_note=parts.FASHION_NOTE, noise=True,
                   constants={"DROPOUT1": cfg.dropout1, "DROPOUT2": cfg.dropout2, "NUM_EPOCHS": cfg.num_epochs,
                              "LR": cfg.lr, "BATCH_SIZE": cfg.batch_size, "NUM_HIDDENS1": cfg.num_hiddens1,
                              "NUM_HIDDENS2": cfg.num_hiddens2}),
        parts.FASHION_MNIST, parts.DATA_ITER, DROPOUT, parts.FASHION_MLP, parts.train_loop(), BODY, parts.MAIN,
    ])
