"""Show the PyTorch: LeNet on Fashion-MNIST (core.experiments.lenet, section
7.6), the book's (sigmoid, average pooling) or the modern one (ReLU, max
pooling). The net's snippet is shared with core.export.batch_norm."""
from __future__ import annotations

from core.experiments import lenet as lenet_
from core.export import _ch3to7 as parts

NET = '''

def init_cnn(net):
    """The book's init_cnn (7.6): Xavier-uniform weights drawn from gen_init, zero biases."""
    with torch.no_grad():
        for m in net:
            if isinstance(m, (nn.Linear, nn.Conv2d)):
                fan_in, fan_out = nn.init._calculate_fan_in_and_fan_out(m.weight)
                bound = (6.0 / (fan_in + fan_out)) ** 0.5
                nn.init.uniform_(m.weight, -bound, bound, generator=gen_init)
                nn.init.zeros_(m.bias)


def lenet(activation=nn.Sigmoid, pool=nn.AvgPool2d, norm=None):
    """The book's LeNet (7.6.1): C1 conv 5x5 (6 channels, padding 2), S2 2x2 pooling, C3 conv 5x5
    (16 channels), S4 2x2 pooling, F5 120, F6 84, 10 outputs; with `norm`, a batch norm layer
    after each convolution and each of the first two dense layers, before the activation (8.5)."""
    def bn(num_features, num_dims):
        return [norm(num_features, num_dims)] if norm is not None else []

    net = nn.Sequential(
        nn.Conv2d(1, 6, kernel_size=5, padding=2), *bn(6, 4), activation(), pool(kernel_size=2, stride=2),
        nn.Conv2d(6, 16, kernel_size=5), *bn(16, 4), activation(), pool(kernel_size=2, stride=2),
        nn.Flatten(),
        nn.Linear(16 * 5 * 5, 120), *bn(120, 2), activation(),
        nn.Linear(120, 84), *bn(84, 2), activation(),
        nn.Linear(84, 10))
    init_cnn(net)
    return net
'''

BODY = '''

def run(data_dir, max_steps=None):
    train_data, test_data = load_data_fashion_mnist(data_dir)
    net = lenet({args})
    loss = nn.CrossEntropyLoss(reduction="none")
    trainer = torch.optim.SGD(net.parameters(), lr=LR)
    train(net, train_data, test_data, loss, trainer, NUM_EPOCHS, max_steps)
'''


def script(cfg: lenet_.Config, *, seed: int, data_dir: str, threads: int = 1) -> str:
    modern = cfg.modern
    return "".join([
        parts.head(title="LeNet" + (" with ReLU and max pooling" if modern else ""), section="section 7.6",
                   about="The book's convolutional network on Fashion-MNIST, "
                         + ("with ReLU after each layer and 2x2 max pooling (the modern LeNet), "
                            if modern else "with sigmoid activations and 2x2 average pooling, ")
                         + "cross-entropy and minibatch SGD.",
                   imports=["argparse", "gzip", "json", "os", "struct"], seed=seed,
                   data_dir=data_dir, threads=threads,
                   data_note=parts.FASHION_NOTE,
                   constants={"LR": cfg.lr, "MODERN": cfg.modern, "NUM_EPOCHS": cfg.num_epochs,
                              "BATCH_SIZE": cfg.batch_size}),
        parts.FASHION_MNIST, parts.DATA_ITER, parts.train_loop(), NET,
        BODY.format(args="nn.ReLU, nn.MaxPool2d" if modern else "nn.Sigmoid, nn.AvgPool2d"), parts.MAIN,
    ])
