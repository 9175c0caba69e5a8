"""Show the PyTorch: polynomial regression (core.experiments.polynomial, the
model-selection page): underfitting and overfitting a cubic (book 3.6; the
0.x editions' 4.4)."""
from __future__ import annotations

from core.experiments import polynomial as poly
from core.export import _ch3to7 as parts

BODY = '''

def poly_features(x, max_degree):
    """The book's features: column i is x^i / i! (gamma(i + 1) = i!)."""
    x = x.reshape(-1, 1)
    i = torch.arange(max_degree, dtype=x.dtype)
    return x ** i / torch.exp(torch.lgamma(i + 1))


def make_data():
    """The book's data: x ~ N(0, 1), labels y = 5 + 1.2 x - 3.4 x^2 / 2! + 5.6 x^3 / 3! + N(0, 0.1^2),
    computed in float64 and stored as float32, drawn from a generator seeded SEED + 2000.
    The first N_TRAIN of the 100 training examples and the first NUM_FEATURES features."""
    gen = torch.Generator().manual_seed(SEED + 2000)
    x = torch.normal(0.0, 1.0, (100 + N_TEST, 1), generator=gen, dtype=torch.float64)
    features = poly_features(x, MAX_DEGREE)
    true_w = torch.zeros(MAX_DEGREE, dtype=torch.float64)
    true_w[:4] = torch.tensor([5.0, 1.2, -3.4, 5.6], dtype=torch.float64)
    labels = features @ true_w
    labels = labels + torch.normal(0.0, 0.1, labels.shape, generator=gen, dtype=torch.float64)
    features, labels = features.float(), labels.float().reshape(-1, 1)
    X, y = features[:N_TRAIN, :NUM_FEATURES], labels[:N_TRAIN]
    X_test, y_test = features[100:, :NUM_FEATURES], labels[100:]
    return (X, y), (X_test, y_test)


def run(data_dir, max_steps=None):
    train_data, test_data = make_data()
    net = nn.Linear(NUM_FEATURES, 1, bias=False)
    with torch.no_grad():  # nn.Linear's own initialisation, U(-1/sqrt(d), 1/sqrt(d)), drawn from gen_init
        bound = 1 / math.sqrt(NUM_FEATURES)
        net.weight.copy_(torch.empty(1, NUM_FEATURES).uniform_(-bound, bound, generator=gen_init))
    loss = nn.MSELoss(reduction="none")
    trainer = torch.optim.SGD(net.parameters(), lr=LR)
    train(net, train_data, test_data, loss, trainer, NUM_EPOCHS, max_steps)
    print(f"weight: {net.weight.detach()[0].tolist()}")
'''


def script(cfg: poly.Config, *, seed: int, data_dir: str, threads: int = 1) -> str:
    return "".join([
        parts.head(title="Model selection, underfitting and overfitting", section="section 3.6",
                   about="A linear model without bias fitted to the first NUM_FEATURES polynomial features "
                         "x^i / i! of the book's noisy cubic: 4 is the true model, 2 underfits, 20 overfits.",
                   imports=["argparse", "json", "math"], seed=seed,
                   data_dir=data_dir, threads=threads,
                   data_note="The data are drawn here from the seed: no files needed.",
                   constants={"NUM_FEATURES": cfg.num_features, "N_TRAIN": cfg.n_train, "NUM_EPOCHS": cfg.num_epochs,
                              "LR": cfg.lr, "BATCH_SIZE": poly.batch_size(cfg), "N_TEST": cfg.n_test,
                              "MAX_DEGREE": cfg.max_degree},
                   note="BATCH_SIZE is the book's min(10, N_TRAIN)"),
        parts.DATA_ITER, parts.train_loop(eval_batch="N_TEST"), BODY, parts.MAIN,
    ])
