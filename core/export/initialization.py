"""Show the PyTorch: numerical stability and initialization
(core.experiments.initialization, section 5.4), a deep MLP on Fashion-MNIST
with its weights drawn by one of the book's schemes."""
from __future__ import annotations

from core.experiments import initialization as ini
from core.export import _ch3to7 as parts

BODY = '''

def init_std(scheme, n_in, n_out):
    """The standard deviation of a layer's weights (5.4.2): all zero, N(0, 0.01^2), N(0, 1),
    Xavier sqrt(2 / (n_in + n_out)) or He sqrt(2 / n_in)."""
    return {"zero": 0.0, "normal_001": 0.01, "normal_1": 1.0,
            "xavier": math.sqrt(2.0 / (n_in + n_out)), "he": math.sqrt(2.0 / n_in)}[scheme]


ACTIVATIONS = {"tanh": nn.Tanh, "relu": nn.ReLU, "sigmoid": nn.Sigmoid}


def deep_mlp(num_layers, num_hiddens, activation):
    """NUM_LAYERS hidden layers of NUM_HIDDENS units, one activation after each, then 10 outputs.
    Every weight matrix N(0, init_std^2) drawn from gen_init (even an all-zero one draws), biases zero."""
    layers, n_in = [nn.Flatten()], 784
    for _ in range(num_layers):
        layers += [nn.Linear(n_in, num_hiddens), ACTIVATIONS[activation]()]
        n_in = num_hiddens
    layers.append(nn.Linear(n_in, 10))
    net = nn.Sequential(*layers)
    with torch.no_grad():
        for layer in net:
            if isinstance(layer, nn.Linear):
                n_out, n_in = layer.weight.shape
                layer.weight.copy_(torch.randn(layer.weight.shape, generator=gen_init) * init_std(INIT, n_in, n_out))
                layer.bias.zero_()
    return net


def run(data_dir, max_steps=None):
    train_data, test_data = load_data_fashion_mnist(data_dir)
    net = deep_mlp(NUM_LAYERS, NUM_HIDDENS, ACTIVATION)
    loss = nn.CrossEntropyLoss(reduction="none")
    trainer = torch.optim.SGD(net.parameters(), lr=LR)
    train(net, train_data, test_data, loss, trainer, NUM_EPOCHS, max_steps)
'''


def script(cfg: ini.Config, *, seed: int, data_dir: str, threads: int = 1) -> str:
    return "".join([
        parts.head(title="Numerical stability and initialization", section="section 5.4",
                   about="A deep MLP on Fashion-MNIST (NUM_LAYERS hidden layers of NUM_HIDDENS units) whose "
                         "weights are drawn by one of the book's schemes (INIT), trained with the book's MLP "
                         "settings: cross-entropy and minibatch SGD.",
                   imports=["argparse", "gzip", "json", "math", "os", "struct"], seed=seed,
                   data_dir=data_dir, threads=threads,
                   data_note=parts.FASHION_NOTE,
                   constants={"INIT": cfg.init, "ACTIVATION": cfg.activation, "NUM_LAYERS": cfg.num_layers,
                              "NUM_HIDDENS": cfg.num_hiddens, "LR": cfg.lr, "NUM_EPOCHS": cfg.num_epochs,
                              "BATCH_SIZE": cfg.batch_size}),
        parts.FASHION_MNIST, parts.DATA_ITER, parts.train_loop(), BODY, parts.MAIN,
    ])
