"""The book's image-classification set-up (train_ch3 / train_ch6) as a Trainer:
cross-entropy, minibatch SGD, accuracy; test loss and accuracy each epoch in
eval mode. Shared by the Fashion-MNIST experiments."""
from __future__ import annotations

from core.data.fashion_mnist import FashionMNIST
from core.train.trainer import Batches, Supervised, Trainer


def classifier(net_fn, data: FashionMNIST, *, lr: float, num_epochs: int = 10, batch_size: int = 256,
               seed: int = 0, device="cpu") -> Trainer:
    return Trainer(net_fn, Batches(data.X_train, data.y_train, batch_size=batch_size),
                   test=Batches(data.X_test, data.y_test, batch_size=batch_size, shuffle=False),
                   objective=Supervised("cross_entropy", accuracy=True), lr=lr, num_epochs=num_epochs,
                   seed=seed, device=device)
