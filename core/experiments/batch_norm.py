"""The book's batch-normalization experiment (section 8.5): LeNet with sigmoid
activations, with and without batch norm before each activation, trained side
by side from the same seed with the same learning rate."""
from __future__ import annotations

from core.data.fashion_mnist import FashionMNIST
from core.experiments.classifier import classifier
from core.experiments.schema import config, setting
from core.models.batchnorm import bn_stats, record_preactivations
from core.models.lenet import lenet
from core.train.trainer import Trainer

LRS = (0.01, 0.03, 0.1, 0.3, 0.5, 0.9, 1.0, 2.0, 3.0, 5.0, 10.0)
IMPLS = {"scratch": "the book's BatchNorm (from scratch)", "builtin": "nn.BatchNorm2d / nn.BatchNorm1d"}


@config
class Config:
    lr: float = setting(1.0, "learning rate η (both nets)", options=LRS, live=True,
                        help="Takes effect at the next minibatch. Try 3 or 5: BN-LeNet still learns.")
    batch_norm: str = setting("scratch", "batch norm layers", options=tuple(IMPLS), labels=IMPLS,
                              help="A change starts a new run.")
    num_epochs: int = setting(10, "epochs", min=1, max=20, live=True)
    batch_size: int = 256


BOOK = Config()


def build(cfg: Config, data: FashionMNIST, *, seed: int = 0, device="cpu") -> dict[str, Trainer]:
    """{"LeNet": ..., "BN-LeNet": ...}: the same seed, so the same data order."""
    return {name: classifier(lenet(bn), data, lr=cfg.lr, num_epochs=cfg.num_epochs, batch_size=cfg.batch_size,
                             seed=seed, device=device)
            for name, bn in (("LeNet", None), ("BN-LeNet", cfg.batch_norm))}


def inside(trainers, data: FashionMNIST, *, layer: str = "bn1", hist_eval: bool = False, size: int = 128) -> dict:
    """The page's view (called in the run's worker between two steps): the
    sigmoids' inputs of every net on the first `size` test images as one batch
    (in eval mode with `hist_eval`), and the statistics of BN-LeNet's `layer`.
    The probes put back the running and last-batch statistics of the run."""
    pre = {}
    for name, t in trainers.items():
        pre[name] = record_preactivations(t.net, data.X_test[:size].to(t.device), train=not hist_eval)
    bn_net = next((t.net for name, t in trainers.items() if name.endswith("BN-LeNet")), None)
    stat = next((s for s in bn_stats(bn_net) if s["name"] == layer), None) if bn_net is not None else None
    return {"pre": pre, "stat": stat}
