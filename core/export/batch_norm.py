"""Show the PyTorch: batch normalization (core.experiments.batch_norm, section
8.5), BN-LeNet on Fashion-MNIST with the book's scratch BatchNorm or torch's
nn.BatchNorm2d / nn.BatchNorm1d. The page trains plain LeNet beside it from
the same seed: that one is the LeNet page's script at this lr."""
from __future__ import annotations

from core.experiments import batch_norm as bn_
from core.export import _ch3to7 as parts
from core.export.lenet import NET

SCRATCH = '''

def batch_norm(X, gamma, beta, moving_mean, moving_var, eps, momentum, training):
    """The book's batch_norm (8.5.3) for (batch, features) or (batch, channels, h, w) inputs:
    in training, normalise by the minibatch's mean and variance and update the moving
    statistics (with the unbiased variance, as nn.BatchNorm does); in prediction, use them."""
    if not training:
        X_hat = (X - moving_mean) / torch.sqrt(moving_var + eps)
    else:
        if len(X.shape) == 2:
            mean = X.mean(dim=0)
            var = ((X - mean) ** 2).mean(dim=0)
        else:
            mean = X.mean(dim=(0, 2, 3), keepdim=True)
            var = ((X - mean) ** 2).mean(dim=(0, 2, 3), keepdim=True)
        X_hat = (X - mean) / torch.sqrt(var + eps)
        m = X.numel() // X.shape[1]  # values per feature / channel
        moving_mean = (1.0 - momentum) * moving_mean + momentum * mean
        moving_var = (1.0 - momentum) * moving_var + momentum * (var * m / max(m - 1, 1))
    Y = gamma * X_hat + beta
    return Y, moving_mean.data, moving_var.data


class BatchNorm(nn.Module):
    """The book's BatchNorm layer (8.5.3): gamma and beta learned, the moving statistics kept."""

    def __init__(self, num_features, num_dims):
        super().__init__()
        shape = (1, num_features) if num_dims == 2 else (1, num_features, 1, 1)
        self.gamma = nn.Parameter(torch.ones(shape))
        self.beta = nn.Parameter(torch.zeros(shape))
        self.moving_mean = torch.zeros(shape)
        self.moving_var = torch.ones(shape)

    def forward(self, X):
        Y, self.moving_mean, self.moving_var = batch_norm(
            X, self.gamma, self.beta, self.moving_mean, self.moving_var, eps=1e-5, momentum=0.1,
            training=self.training)
        return Y
'''

BUILTIN = '''

def BatchNorm(num_features, num_dims):
    """torch's batch norm (8.5.4): nn.BatchNorm2d after a convolution, nn.BatchNorm1d after a dense layer."""
    return nn.BatchNorm2d(num_features) if num_dims == 4 else nn.BatchNorm1d(num_features)
'''

BODY = '''

def run(data_dir, max_steps=None):
    train_data, test_data = load_data_fashion_mnist(data_dir)
    net = lenet(nn.Sigmoid, nn.AvgPool2d, norm=BatchNorm)  # BN-LeNet
    loss = nn.CrossEntropyLoss(reduction="none")
    trainer = torch.optim.SGD(net.parameters(), lr=LR)
    train(net, train_data, test_data, loss, trainer, NUM_EPOCHS, max_steps)
'''


def script(cfg: bn_.Config, *, seed: int, data_dir: str, threads: int = 1) -> str:
    scratch = cfg.batch_norm == "scratch"
    return "".join([
        parts.head(title="Batch normalization", section="section 8.5",
                   about="BN-LeNet on Fashion-MNIST: the book's LeNet (sigmoid, average pooling) with a batch "
                         "norm layer before each activation, "
                         + ("the book's BatchNorm from scratch. " if scratch else "torch's nn.BatchNorm2d/1d. ")
                         + "The page trains plain LeNet beside it from the same seed (the LeNet page's script "
                           "at this lr); this script trains BN-LeNet.",
                   imports=["argparse", "gzip", "json", "os", "struct"], seed=seed,
                   data_dir=data_dir, threads=threads,
                   data_note=parts.FASHION_NOTE,
                   constants={"LR": cfg.lr, "BATCH_NORM": cfg.batch_norm, "NUM_EPOCHS": cfg.num_epochs,
                              "BATCH_SIZE": cfg.batch_size}),
        parts.FASHION_MNIST, parts.DATA_ITER, parts.train_loop(), SCRATCH if scratch else BUILTIN, NET, BODY,
        parts.MAIN,
    ])
