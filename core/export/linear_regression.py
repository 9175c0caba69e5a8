"""Show the PyTorch: linear regression (core.experiments.linear_regression),
from scratch (3.4) or concise (3.5), on the book's synthetic data (3.3)."""
from __future__ import annotations

from core.experiments import linear_regression as lr_
from core.export import _ch3to7 as parts

DATA = '''

def synthetic_data(w, b, num_examples, generator):
    """The book's synthetic_data (3.3): X ~ N(0, 1), y = Xw + b + noise.
    Drawn from a generator of its own, seeded SEED + 1000."""
    X = torch.normal(0.0, 1.0, (num_examples, len(w)), generator=generator)
    y = torch.matmul(X, w) + b
    y += torch.normal(0.0, NOISE, y.shape, generator=generator)
    return X, y.reshape((-1, 1))
'''

SCRATCH = '''

class LinearRegressionScratch(nn.Module):
    """The book's linreg (3.4): y_hat = X w + b, with w ~ N(0, SIGMA^2) and b = 0."""

    def __init__(self, num_inputs, sigma):
        super().__init__()
        self.w = nn.Parameter(torch.normal(0.0, sigma, (num_inputs, 1), generator=gen_init))
        self.b = nn.Parameter(torch.zeros(1))

    def forward(self, X):
        return torch.matmul(X, self.w) + self.b


def squared_loss(y_hat, y):
    """The book's squared loss (3.1), per example."""
    return (y_hat - y.reshape(y_hat.shape)) ** 2 / 2


def run(data_dir, max_steps=None):
    true_w, true_b = torch.tensor(TRUE_W), TRUE_B
    X, y = synthetic_data(true_w, true_b, NUM_EXAMPLES, torch.Generator().manual_seed(SEED + 1000))
    net = LinearRegressionScratch(2, SIGMA)
    updater = SGD(net.parameters(), LR)  # the book's sgd
    train(net, (X, y), (X, y), squared_loss, updater, NUM_EPOCHS, max_steps)
    print(f"error in estimating w: {(true_w - net.w.detach().reshape(true_w.shape)).tolist()}")
    print(f"error in estimating b: {true_b - net.b.item()}")
'''

CONCISE = '''

def squared_loss(y_hat, y):
    """nn.MSELoss halved (3.5): MSELoss has no 1/2, so halving it gives the
    book's squared loss, and the same lr takes the scratch version's steps."""
    return nn.MSELoss()(y_hat, y) / 2


def run(data_dir, max_steps=None):
    true_w, true_b = torch.tensor(TRUE_W), TRUE_B
    X, y = synthetic_data(true_w, true_b, NUM_EXAMPLES, torch.Generator().manual_seed(SEED + 1000))
    net = nn.Linear(2, 1)
    with torch.no_grad():  # the scratch model's initial values: w ~ N(0, SIGMA^2) from gen_init, b = 0
        net.weight.copy_(torch.normal(0.0, SIGMA, (2, 1), generator=gen_init).reshape(1, -1))
        net.bias.zero_()
    trainer = torch.optim.SGD(net.parameters(), lr=LR)
    train(net, (X, y), (X, y), squared_loss, trainer, NUM_EPOCHS, max_steps)
    print(f"error in estimating w: {(true_w - net.weight.detach().reshape(true_w.shape)).tolist()}")
    print(f"error in estimating b: {true_b - net.bias.item()}")
'''


def script(cfg: lr_.Config, *, seed: int, data_dir: str, threads: int = 1) -> str:
    scratch = cfg.impl == "scratch"
    return "".join([
        parts.head(title="Linear regression " + ("from scratch" if scratch else "concise"),
                   section="sections 3.1-3.5",
                   about="The book's synthetic data, y = X w + b + noise with w = [2, -3.4] and b = 4.2, "
                         "fitted by a linear model with the squared loss and minibatch SGD, "
                         + ("written out as in 3.4." if scratch else "with torch's nn.Linear, nn.MSELoss and "
                            "torch.optim.SGD as in 3.5."),
                   imports=["argparse", "json"], seed=seed,
                   data_dir=data_dir, threads=threads,
                   data_note="The data are drawn here from the seed: no files needed.",
                   constants={"LR": cfg.lr, "BATCH_SIZE": cfg.batch_size, "NUM_EPOCHS": cfg.num_epochs,
                              "NOISE": cfg.noise, "NUM_EXAMPLES": cfg.num_examples, "SIGMA": cfg.sigma,
                              "TRUE_W": list(lr_.TRUE_W), "TRUE_B": lr_.TRUE_B}),
        DATA, parts.DATA_ITER, parts.SGD if scratch else "",
        parts.train_loop(eval_label="loss on all examples"),
        SCRATCH if scratch else CONCISE, parts.MAIN,
    ])
