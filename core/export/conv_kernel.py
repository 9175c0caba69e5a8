"""Show the PyTorch: learning a kernel (core.experiments.conv_kernel, the
convolutions page, section 7.2.4): which 1x2 kernel turns the book's 6x8
image X into Y = corr2d(X, [[1, -1]])? The book's own loop."""
from __future__ import annotations

from core.experiments import conv_kernel as ck
from core.export import _ch3to7 as parts

BODY = '''

def corr2d(X, K):
    """The book's two-dimensional cross-correlation (7.2.1)."""
    h, w = K.shape
    Y = torch.zeros((X.shape[0] - h + 1, X.shape[1] - w + 1))
    for i in range(Y.shape[0]):
        for j in range(Y.shape[1]):
            Y[i, j] = (X[i:i + h, j:j + w] * K).sum()
    return Y


def run(data_dir, max_steps=None):
    # The book's 6x8 image (7.2.3): ones, with the middle four columns zero, and its edges Y.
    X = torch.ones((6, 8))
    X[:, 2:6] = 0
    K = torch.tensor([[1.0, -1.0]])
    Y = corr2d(X, K)
    X, Y = X.reshape((1, 1, 6, 8)), Y.reshape((1, 1, 6, 7))
    # A 1x2 kernel without bias; its weight drawn as torch draws it (U(-1/sqrt(2), 1/sqrt(2)) for
    # fan_in 2, nn.Conv2d's default) but from gen_init.
    conv2d = nn.Conv2d(1, 1, kernel_size=(1, 2), bias=False)
    with torch.no_grad():
        bound = 1.0 / math.sqrt(2.0)
        conv2d.weight.uniform_(-bound, bound, generator=gen_init)
    # The book's loop (7.2.4): one update on the one pair (X, Y) per epoch, the summed squared error.
    for i in range(NUM_EPOCHS):
        Y_hat = conv2d(X)
        l = ((Y_hat - Y) ** 2).sum()
        conv2d.zero_grad()
        l.backward()
        with torch.no_grad():
            conv2d.weight -= LR * conv2d.weight.grad
        print(json.dumps({"step": i + 1, "loss": l.item().hex()}), flush=True)
        if max_steps is not None and i + 1 >= max_steps:
            break
        if (i + 1) % 2 == 0:
            print(f"epoch {i + 1}, loss {l.item():.3f}")
    print(f"kernel: {conv2d.weight.data.reshape((1, 2)).tolist()}")
'''


def script(cfg: ck.Config, *, seed: int, data_dir: str, threads: int = 1) -> str:
    return "".join([
        parts.head(title="Learning a kernel", section="section 7.2.4",
                   about="Only the input-output pair (X, Y) is seen; gradient descent on the summed squared "
                         "error finds the edge detector [1, -1]. Stable for LR < 2 / 60 = 0.0333 on the book's X.",
                   imports=["argparse", "json", "math"], seed=seed, data_dir=data_dir, threads=threads,
                   data_note="The book's 6 x 8 image is made here: no files needed.",
                   constants={"LR": cfg.lr, "NUM_EPOCHS": cfg.num_epochs}),
        BODY, parts.MAIN,
    ])
