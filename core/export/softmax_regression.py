"""Show the PyTorch: softmax regression on Fashion-MNIST
(core.experiments.softmax_regression), from scratch (4.4) or concise (4.5)."""
from __future__ import annotations

from core.experiments import softmax_regression as sr
from core.export import _ch3to7 as parts

SCRATCH = '''

def softmax(X):
    """The book's softmax (4.4.1): exp, then divide by the row sums."""
    X_exp = torch.exp(X)
    partition = X_exp.sum(1, keepdim=True)
    return X_exp / partition


class SoftmaxRegressionScratch(nn.Module):
    """The book's net (4.4.2): softmax(X.reshape(-1, 784) @ W + b), W ~ N(0, SIGMA^2), b = 0."""

    def __init__(self, num_inputs, num_outputs, sigma):
        super().__init__()
        self.W = nn.Parameter(torch.normal(0.0, sigma, (num_inputs, num_outputs), generator=gen_init))
        self.b = nn.Parameter(torch.zeros(num_outputs))

    def forward(self, X):
        return softmax(torch.matmul(X.reshape((-1, self.W.shape[0])), self.W) + self.b)


def cross_entropy(y_hat, y):
    """The book's cross_entropy (4.4.3): -log of the probability given to the true class."""
    return -torch.log(y_hat[torch.arange(len(y_hat)), y])


def run(data_dir, max_steps=None):
    train_data, test_data = load_data_fashion_mnist(data_dir)
    net = SoftmaxRegressionScratch(NUM_INPUTS, NUM_OUTPUTS, SIGMA)
    updater = SGD(net.parameters(), LR)  # the book's sgd
    train(net, train_data, test_data, cross_entropy, updater, NUM_EPOCHS, max_steps)
'''

CONCISE = '''

def run(data_dir, max_steps=None):
    train_data, test_data = load_data_fashion_mnist(data_dir)
    net = nn.Sequential(nn.Flatten(), nn.Linear(NUM_INPUTS, NUM_OUTPUTS))
    with torch.no_grad():  # the scratch model's initial values: W ~ N(0, SIGMA^2) from gen_init, b = 0
        W = torch.normal(0.0, SIGMA, (NUM_INPUTS, NUM_OUTPUTS), generator=gen_init)
        net[1].weight.copy_(W.T)
        net[1].bias.zero_()
    loss = nn.CrossEntropyLoss(reduction="none")  # takes the logits: log-softmax, computed stably
    trainer = torch.optim.SGD(net.parameters(), lr=LR)
    train(net, train_data, test_data, loss, trainer, NUM_EPOCHS, max_steps)
'''


def script(cfg: sr.Config, *, seed: int, data_dir: str, threads: int = 1) -> str:
    scratch = cfg.impl == "scratch"
    return "".join([
        parts.head(title="Softmax regression " + ("from scratch" if scratch else "concise"),
                   section="sections 4.1-4.5",
                   about="Fashion-MNIST's 28 x 28 images flattened to 784 inputs, one linear layer to 10 "
                         "outputs, softmax and cross-entropy, minibatch SGD, "
                         + ("written out as in 4.4." if scratch else "with torch's parts as in 4.5."),
                   imports=["argparse", "gzip", "json", "os", "struct"], seed=seed,
                   data_dir=data_dir, threads=threads,
                   data_note=parts.FASHION_NOTE,
                   constants={"LR": cfg.lr, "BATCH_SIZE": cfg.batch_size, "NUM_EPOCHS": cfg.num_epochs,
                              "SIGMA": cfg.sigma, "NUM_INPUTS": cfg.num_inputs, "NUM_OUTPUTS": cfg.num_outputs}),
        parts.FASHION_MNIST, parts.DATA_ITER, parts.SGD if scratch else "", parts.train_loop(),
        SCRATCH if scratch else CONCISE, parts.MAIN,
    ])
