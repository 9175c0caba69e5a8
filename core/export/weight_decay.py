"""Show the PyTorch: weight decay (core.experiments.weight_decay), the book's
high-dimensional linear regression with an L2 penalty on w (3.7)."""
from __future__ import annotations

from core.experiments import weight_decay as wd
from core.export import _ch3to7 as parts

BODY = '''

def synthetic_data(w, b, num_examples, generator, noise=0.01):
    """The book's synthetic_data (3.3): X ~ N(0, 1), y = Xw + b + N(0, noise^2)."""
    X = torch.normal(0.0, 1.0, (num_examples, len(w)), generator=generator)
    y = torch.matmul(X, w) + b
    y += torch.normal(0.0, noise, y.shape, generator=generator)
    return X, y.reshape((-1, 1))


def squared_loss(y_hat, y):
    """The book's squared loss (3.1), per example: the penalty is not in it,
    the optimizer adds its gradient (weight decay)."""
    return (y_hat - y.reshape(y_hat.shape)) ** 2 / 2


def run(data_dir, max_steps=None):
    # The data (3.7.2): y = 0.05 + sum_i 0.01 x_i + noise, drawn from a generator seeded SEED + 1000.
    gen = torch.Generator().manual_seed(SEED + 1000)
    true_w, true_b = torch.ones(NUM_INPUTS) * 0.01, 0.05
    train_data = synthetic_data(true_w, true_b, N_TRAIN, gen)
    test_data = synthetic_data(true_w, true_b, N_TEST, gen)
    net = nn.Linear(NUM_INPUTS, 1)
    with torch.no_grad():  # the book's init_params: w ~ N(0, 1), b = 0
        net.weight.normal_(0.0, 1.0, generator=gen_init)
        net.bias.zero_()
    # The concise weight decay (3.7.4): the penalty (lambd / 2) ||w||^2 on the weight only, not the bias.
    trainer = torch.optim.SGD([{"params": net.weight, "weight_decay": WEIGHT_DECAY},
                               {"params": net.bias}], lr=LR)
    train(net, train_data, test_data, squared_loss, trainer, NUM_EPOCHS, max_steps)
    print(f"L2 norm of w: {net.weight.norm().item()}")
'''


def script(cfg: wd.Config, *, seed: int, data_dir: str, threads: int = 1) -> str:
    return "".join([
        parts.head(title="Weight decay", section="section 3.7",
                   about=f"{cfg.num_inputs} inputs but only {cfg.n_train} training examples: without a penalty "
                         "the linear model overfits. SGD with weight decay lambd = WEIGHT_DECAY on w (not b) "
                         "minimises the squared loss plus (lambd / 2) ||w||^2.",
                   imports=["argparse", "json"], seed=seed,
                   data_dir=data_dir, threads=threads,
                   data_note="The data are drawn here from the seed: no files needed.",
                   constants={"WEIGHT_DECAY": cfg.weight_decay, "NUM_EPOCHS": cfg.num_epochs, "LR": cfg.lr,
                              "BATCH_SIZE": cfg.batch_size, "N_TRAIN": cfg.n_train, "N_TEST": cfg.n_test,
                              "NUM_INPUTS": cfg.num_inputs}),
        parts.DATA_ITER, parts.train_loop(eval_batch="N_TEST"), BODY, parts.MAIN,
    ])
