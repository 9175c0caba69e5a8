"""Show the PyTorch: the MLP on a 2-D toy (core.experiments.mlp_toy, the MLP
page's second part): two moons or a spiral, 1-3 hidden layers."""
from __future__ import annotations

from core.data import toy2d
from core.experiments import mlp_toy as toy
from core.export import _ch3to7 as parts
from core.export.mlp import ACTIVATIONS

BODY = '''

def make_data(gen):
    """NUM_TRAIN + NUM_TEST points of DATASET in a random order, split; drawn from a generator
    seeded SEED + 2000. Two moons: half circles of radius 1 (scikit-learn's make_moons), moved to
    the middle and scaled by 3. Spiral: TensorFlow Playground's, two arms winding almost a turn."""
    n = NUM_TRAIN + NUM_TEST
    y = torch.cat([torch.zeros(n - n // 2, dtype=torch.int64), torch.ones(n // 2, dtype=torch.int64)])
    if DATASET == "moons":
        t = torch.rand(n, generator=gen, dtype=torch.float64) * math.pi
        upper = torch.stack([torch.cos(t), torch.sin(t)], 1)
        lower = torch.stack([1 - torch.cos(t), 0.5 - torch.sin(t)], 1)
        X = torch.where((y == 0)[:, None], upper, lower)
        X = X + NOISE * torch.randn(n, 2, generator=gen, dtype=torch.float64)
        X = (X - torch.tensor([0.5, 0.25], dtype=torch.float64)) * {moon_scale}
    else:
        m = torch.bincount(y, minlength=2).to(torch.float64)
        index = torch.cat([torch.arange(int(m[0])), torch.arange(int(m[1]))]).to(torch.float64)
        frac = index / m[y]
        r = {spiral_radius} * frac
        t = 1.75 * 2 * math.pi * frac + math.pi * y.to(torch.float64)
        X = torch.stack([r * torch.sin(t), r * torch.cos(t)], 1)
        X = X + NOISE * {spiral_noise} * torch.randn(n, 2, generator=gen, dtype=torch.float64)
    X = X.float()
    order = torch.randperm(n, generator=gen)
    X, y = X[order], y[order]
    return (X[:NUM_TRAIN], y[:NUM_TRAIN]), (X[NUM_TRAIN:], y[NUM_TRAIN:])


def linear(n_in, n_out):
    """nn.Linear with torch's default initial values, U(-1/sqrt(n_in), 1/sqrt(n_in)), drawn from gen_init."""
    layer = nn.Linear(n_in, n_out)
    bound = 1 / math.sqrt(n_in)
    with torch.no_grad():
        nn.init.uniform_(layer.weight, -bound, bound, generator=gen_init)
        nn.init.uniform_(layer.bias, -bound, bound, generator=gen_init)
    return layer


def run(data_dir, max_steps=None):
    train_data, test_data = make_data(torch.Generator().manual_seed(SEED + 2000))
    layers, n_in = [], 2
    for _ in range(NUM_LAYERS):
        layers += [linear(n_in, NUM_HIDDENS), {activation}]
        n_in = NUM_HIDDENS
    net = nn.Sequential(*layers, linear(n_in, 2))
    loss = nn.CrossEntropyLoss(reduction="none")
    trainer = torch.optim.SGD(net.parameters(), lr=LR)
    train(net, train_data, test_data, loss, trainer, NUM_EPOCHS, max_steps)
'''


def script(cfg: toy.Config, *, seed: int, data_dir: str, threads: int = 1) -> str:
    return "".join([
        parts.head(title="An MLP on a 2-D toy", section="sections 5.1-5.2",
                   about="Two inputs (a point's coordinates), NUM_LAYERS hidden layers of NUM_HIDDENS units, two "
                         "outputs, cross-entropy and minibatch SGD, on two moons or a spiral.",
                   imports=["argparse", "json", "math"], seed=seed, data_dir=data_dir, threads=threads,
                   data_note="The points are drawn here from the seed: no files needed.",
                   constants={"DATASET": cfg.dataset, "NOISE": cfg.noise, "NUM_HIDDENS": cfg.num_hiddens,
                              "NUM_LAYERS": cfg.num_layers, "ACTIVATION": cfg.activation, "LR": cfg.lr,
                              "NUM_EPOCHS": cfg.num_epochs, "BATCH_SIZE": cfg.batch_size,
                              "NUM_TRAIN": cfg.num_train, "NUM_TEST": cfg.num_test}),
        parts.DATA_ITER, parts.train_loop(eval_batch="NUM_TEST"),
        BODY.format(activation=ACTIVATIONS[cfg.activation], moon_scale=repr(toy2d.MOON_SCALE),
                    spiral_radius=repr(toy2d.SPIRAL_RADIUS), spiral_noise=repr(toy2d.SPIRAL_NOISE)),
        parts.MAIN,
    ])
