"""The book's model classes of the Builders' Guide (d2l 1.0, sections 6.1-6.5):
`MLP`, `MySequential`, `FixedHiddenMLP`, `NestMLP`, `CenteredLayer`, `MyLinear`,
and the nets built from them (the chimera, the tied net of 6.2, ...).

The book writes `nn.LazyLinear` everywhere; here the layers are eager (the
input width is given) so that a net can be drawn from an explicit
`torch.Generator`: `torch_default_init_` draws PyTorch's default
initialization from it. `lazy_mlp` keeps the book's lazy layers for 6.4.
Building a layer makes PyTorch draw its default weights from the global
generator; `quiet_global_rng()` around the build leaves that stream where it
was, and the generator's values then replace those weights."""
from __future__ import annotations

import contextlib
import math

import torch
from torch import nn
from torch.nn import functional as F


@contextlib.contextmanager
def quiet_global_rng():
    """Run the body with torch's global (CPU) random state restored afterwards."""
    with torch.random.fork_rng(devices=[]):
        yield


def torch_default_init_(net: nn.Module, gen: torch.Generator) -> nn.Module:
    """PyTorch's default init of every Linear and Conv layer in `net` (what
    `reset_parameters` does: weights kaiming-uniform with a = sqrt(5), that is
    U(-1/sqrt(fan_in), 1/sqrt(fan_in)), biases U of the same bound), drawn from
    `gen` in the order of `net.modules()`. In place; returns `net`."""
    with torch.no_grad():
        for m in net.modules():
            if isinstance(m, (nn.Linear, nn.Conv1d, nn.Conv2d, nn.Conv3d)):
                nn.init.kaiming_uniform_(m.weight, a=math.sqrt(5), generator=gen)
                if m.bias is not None:
                    fan_in, _ = nn.init._calculate_fan_in_and_fan_out(m.weight)
                    bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0.0
                    nn.init.uniform_(m.bias, -bound, bound, generator=gen)
            elif isinstance(m, MyLinear):
                m.weight.copy_(torch.randn(m.weight.shape, generator=gen))
                m.bias.copy_(torch.randn(m.bias.shape, generator=gen))
    return net


def _build(make, gen: torch.Generator) -> nn.Module:
    with quiet_global_rng():
        net = make()
    return torch_default_init_(net, gen)


# ------------------------------------------------------------------ 6.1 modules
class MLP(nn.Module):
    """The book's MLP as a subclass of nn.Module: hidden (256, ReLU), out (10)."""

    def __init__(self, num_inputs: int = 20, num_hiddens: int = 256, num_outputs: int = 10):
        super().__init__()
        self.hidden = nn.Linear(num_inputs, num_hiddens)
        self.out = nn.Linear(num_hiddens, num_outputs)

    def forward(self, X):
        return self.out(F.relu(self.hidden(X)))


class MySequential(nn.Module):
    """The book's own Sequential: children registered as '0', '1', ... and called in order."""

    def __init__(self, *args):
        super().__init__()
        for idx, module in enumerate(args):
            self.add_module(str(idx), module)

    def forward(self, X):
        for module in self.children():
            X = module(X)
        return X


class FixedHiddenMLP(nn.Module):
    """The book's FixedHiddenMLP: a constant random weight (not a parameter,
    drawn from `gen` here), one Linear used twice, and Python control flow."""

    def __init__(self, num_inputs: int = 20, gen: torch.Generator | None = None):
        super().__init__()
        self.rand_weight = torch.rand((20, 20), generator=gen)  # a constant: no gradient, not trained
        self.linear = nn.Linear(num_inputs, 20)

    def forward(self, X):
        X = self.linear(X)
        X = F.relu(X @ self.rand_weight + 1)
        X = self.linear(X)  # the same layer again: its parameters are shared by both uses
        while X.abs().sum() > 1:
            X /= 2
        return X.sum()


class NestMLP(nn.Module):
    """The book's NestMLP: a Sequential inside a module, then a Linear."""

    def __init__(self, num_inputs: int = 20):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(num_inputs, 64), nn.ReLU(), nn.Linear(64, 32), nn.ReLU())
        self.linear = nn.Linear(32, 16)

    def forward(self, X):
        return self.linear(self.net(X))


# ------------------------------------------------------------ 6.5 custom layers
class CenteredLayer(nn.Module):
    """The book's layer without parameters: X - X.mean()."""

    def forward(self, X):
        return X - X.mean()


class MyLinear(nn.Module):
    """The book's fully connected layer with its own parameters, then ReLU.
    The book's forward reads `self.weight.data`, which hides the layer from
    autograd (no gradient would reach it); this one uses the parameters, so the
    values are the book's and the layer can also be trained."""

    def __init__(self, in_units: int, units: int, gen: torch.Generator | None = None):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(in_units, units, generator=gen))
        self.bias = nn.Parameter(torch.randn(units, generator=gen))

    def forward(self, X):
        linear = torch.matmul(X, self.weight) + self.bias
        return F.relu(linear)


# ----------------------------------------------------------------- the nets
def mlp(gen: torch.Generator) -> MLP:
    return _build(MLP, gen)


def sequential_mlp(gen: torch.Generator) -> nn.Sequential:
    """The book's first net: nn.Sequential(Linear(20, 256), ReLU, Linear(256, 10))."""
    return _build(lambda: nn.Sequential(nn.Linear(20, 256), nn.ReLU(), nn.Linear(256, 10)), gen)


def my_sequential(gen: torch.Generator) -> MySequential:
    return _build(lambda: MySequential(nn.Linear(20, 256), nn.ReLU(), nn.Linear(256, 10)), gen)


def fixed_hidden_mlp(gen: torch.Generator) -> FixedHiddenMLP:
    with quiet_global_rng():
        net = FixedHiddenMLP(gen=gen)
    return torch_default_init_(net, gen)


def nest_mlp(gen: torch.Generator) -> NestMLP:
    return _build(NestMLP, gen)


def chimera(gen: torch.Generator) -> nn.Sequential:
    """The book's chimera: nn.Sequential(NestMLP(), Linear(16, 20), FixedHiddenMLP())."""
    with quiet_global_rng():
        net = nn.Sequential(NestMLP(), nn.Linear(16, 20), FixedHiddenMLP(gen=gen))
    return torch_default_init_(net, gen)


def param_net(gen: torch.Generator) -> nn.Sequential:
    """Section 6.2's net: Linear(4, 8), ReLU, Linear(8, 1), for X of shape (2, 4)."""
    return _build(lambda: nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 1)), gen)


def tied_net(gen: torch.Generator) -> nn.Sequential:
    """Section 6.2's tied parameters: one Linear(8, 8) `shared` at positions 2 and 4."""
    def make():
        shared = nn.Linear(8, 8)
        return nn.Sequential(nn.Linear(4, 8), nn.ReLU(), shared, nn.ReLU(), shared, nn.ReLU(), nn.Linear(8, 1))
    return _build(make, gen)


def centered_net(gen: torch.Generator) -> nn.Sequential:
    """Section 6.5: nn.Sequential(Linear(8, 128), CenteredLayer()), for X of shape (4, 8)."""
    return _build(lambda: nn.Sequential(nn.Linear(8, 128), CenteredLayer()), gen)


def my_linear_net(gen: torch.Generator) -> nn.Sequential:
    """Section 6.5: nn.Sequential(MyLinear(64, 8), MyLinear(8, 1)), for X of shape (2, 64)."""
    return _build(lambda: nn.Sequential(MyLinear(64, 8), MyLinear(8, 1)), gen)


def lazy_mlp() -> nn.Sequential:
    """Section 6.4: the book's MLP with lazy layers; shapes unknown until the first batch."""
    with quiet_global_rng():
        return nn.Sequential(nn.LazyLinear(256), nn.ReLU(), nn.LazyLinear(10))


def eager_mlp(num_inputs: int, gen: torch.Generator) -> nn.Sequential:
    """lazy_mlp's eager twin for inputs of width `num_inputs`."""
    return _build(lambda: nn.Sequential(nn.Linear(num_inputs, 256), nn.ReLU(), nn.Linear(256, 10)), gen)
