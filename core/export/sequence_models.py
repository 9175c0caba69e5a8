"""Show the PyTorch for the sequence-models page (section 9.1): the book's
noisy sine and its autoregressive MLP trained with Adam."""
from __future__ import annotations

from core.experiments import sequence_models as sm
from core.export import _text

MODEL = '''

# ------------------------------------------------------------------------ data
# T steps of a sine with Gaussian noise, drawn from the run's data seed SEED + 1000.
gen_series = torch.Generator().manual_seed(SEED + 1000)
time = torch.arange(1, T + 1, dtype=torch.float32)
x = torch.sin(0.01 * time) + torch.normal(0.0, NOISE, (T,), generator=gen_series)

# The features of example i are x_i, ..., x_{i+TAU-1}, its label x_{i+TAU}.
features = torch.stack([x[i: T - TAU + i] for i in range(TAU)], dim=1)
labels = x[TAU:].reshape((-1, 1))
train_features, train_labels = features[:N_TRAIN], labels[:N_TRAIN]
test_features, test_labels = features[N_TRAIN:], labels[N_TRAIN:]


# ----------------------------------------------------------------------- model
def get_net():
    """An MLP with one hidden layer of NUM_HIDDENS ReLU units; Xavier-uniform
    weights (the book's init_weights), biases U(-1/sqrt(fan_in), 1/sqrt(fan_in))
    as nn.Linear draws them, all from the run's generator."""
    net = nn.Sequential(nn.Linear(TAU, NUM_HIDDENS), nn.ReLU(), nn.Linear(NUM_HIDDENS, 1))
    with torch.no_grad():
        for m in net:
            if isinstance(m, nn.Linear):
                nn.init.xavier_uniform_(m.weight, generator=gen_init)
                bound = 1 / math.sqrt(m.in_features)
                m.bias.uniform_(-bound, bound, generator=gen_init)
    return net


def evaluate_loss(net, features, labels):
    """The mean squared error over all the examples (the book's evaluate_loss)."""
    with torch.no_grad():
        return float(loss(net(features), labels).mean())


def epoch_summary(net):
    return (f"loss {evaluate_loss(net, train_features, train_labels):f}, "
            f"held-out loss {evaluate_loss(net, test_features, test_labels):f}")


net = get_net()
loss = nn.MSELoss(reduction="none")  # squared error, without the book's 1/2
trainer = torch.optim.Adam(net.parameters(), lr=LR)
'''


def script(cfg, *, seed: int, data_dir: str = "") -> str:
    return _text.script_of(
        _text.header("Sequence models: an autoregressive MLP on a noisy sine (d2l section 9.1)",
                     f"The book's T = {sm.T} steps of x_t = sin(0.01 t) + noise; an MLP predicts x_t from the "
                     "TAU values before it, trained with Adam on the squared error of the first N_TRAIN "
                     "windows.", seed=seed),
        "# The page's settings (its Config)\n",
        _text.constants(TAU=cfg.tau, LR=cfg.lr, NUM_EPOCHS=cfg.num_epochs, N_TRAIN=cfg.n_train,
                        BATCH_SIZE=cfg.batch_size, NUM_HIDDENS=cfg.num_hiddens, T=sm.T, NOISE=sm.NOISE,
                        GRAD_CLIP=None, SEED=int(seed), DATA_DIR=str(data_dir)),
        _text.ARGS, _text.GENERATORS, _text.REPORT, _text.SUPERVISED_TRAIN, MODEL,
        "train(net, train_features, train_labels, loss, trainer, NUM_EPOCHS, args.steps)\n")
