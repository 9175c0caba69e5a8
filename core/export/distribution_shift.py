"""Show the PyTorch: covariate shift and its correction by importance weights
(core.experiments.distribution_shift, section 4.7) on the page's 2-D toy."""
from __future__ import annotations

from core.data import shift
from core.experiments import distribution_shift as ds
from core.export import _ch3to7 as parts

BODY = '''

def p_y1(X):
    """The fixed p(y = 1 | x) = sigmoid(SHARPNESS (x2 - x1^2 / 2)): a parabola as the class boundary."""
    X = X.to(torch.float64)
    return torch.sigmoid(SHARPNESS * (X[:, 1] - X[:, 0] ** 2 / 2))


def covariate_data(gen):
    """Source (training) inputs around SOURCE_MEAN, target (test) inputs SHIFT further along the
    boundary; the same p(y | x) labels both. Drawn from a generator seeded SEED + 4700."""
    a = SOURCE_MEAN[0] + SHIFT
    target_mean = (a, SOURCE_MEAN[1] + a * a / 2 - SOURCE_MEAN[0] ** 2 / 2)
    sets = []
    for mean in (SOURCE_MEAN, target_mean):
        X = torch.tensor(mean, dtype=torch.float64) + torch.randn(NUM_EXAMPLES, 2, generator=gen, dtype=torch.float64)
        y = (torch.rand(len(X), generator=gen, dtype=torch.float64) < p_y1(X)).long()
        sets += [X, y]
    X, y, X_test, y_test = sets
    return X.float(), y, X_test.float(), y_test


def domain_classifier(X_source, X_target, ridge=RIDGE, iterations=50):
    """Logistic regression telling target (z = 1) from source (z = 0) inputs (4.7.3.1), fitted by
    Newton's method in float64 with a tiny L2 penalty on w: (w, b) of the logit h(x) = w . x + b."""
    X = torch.cat([X_source, X_target]).to(torch.float64)
    z = torch.cat([torch.zeros(len(X_source)), torch.ones(len(X_target))]).to(torch.float64)
    A = torch.cat([X, torch.ones(len(X), 1, dtype=torch.float64)], dim=1)
    theta = torch.zeros(A.shape[1], dtype=torch.float64)
    penalty = torch.full((A.shape[1],), ridge * len(X), dtype=torch.float64)
    penalty[-1] = 0.0  # not on b
    for _ in range(iterations):
        p = torch.sigmoid(A @ theta)
        grad = A.T @ (p - z) + penalty * theta
        hess = ((A * (p * (1 - p))[:, None]).T @ A + torch.diag(penalty)
                + 1e-12 * torch.eye(A.shape[1], dtype=torch.float64))
        delta = torch.linalg.solve(hess, grad)
        theta = theta - delta
        if float(delta.abs().max()) < 1e-10:
            break
    return theta[:-1], float(theta[-1])


''' + parts.LINEAR + '''

def data_iter(batch_size, X, y, beta):
    """The minibatches of one epoch, in an order drawn from gen_data (3.2)."""
    indices = torch.randperm(len(X), generator=gen_data)
    for i in range(0, len(X), batch_size):
        batch_indices = indices[i:i + batch_size]
        yield X[batch_indices], y[batch_indices], beta[batch_indices]


def run(data_dir, max_steps=None):
    X, y, X_test, y_test = covariate_data(torch.Generator().manual_seed(SEED + 4700))
    if WEIGHTING == "importance":
        # beta_i = exp(h(x_i)) (times n_source / n_target): an estimate of q(x_i) / p(x_i), scaled to mean 1
        w, b = domain_classifier(X, X_test)
        beta = torch.exp(X.to(torch.float64) @ w + b) * (len(X) / len(X_test))
        beta = (beta / beta.mean()).float()
    else:
        beta = torch.ones(len(X))
    if MODEL == "logistic":  # softmax regression on two classes
        net = linear(2, 2)
    else:
        net = nn.Sequential(linear(2, NUM_HIDDENS), nn.ReLU(), linear(NUM_HIDDENS, NUM_HIDDENS), nn.ReLU(),
                            linear(NUM_HIDDENS, 2))
    trainer = torch.optim.SGD(net.parameters(), lr=LR)
    step = 0
    for epoch in range(NUM_EPOCHS):
        net.train()
        for X_batch, y_batch, beta_batch in data_iter(BATCH_SIZE, X, y, beta):
            y_hat = net(X_batch)
            # the weighted empirical risk (4.7.3.1): beta_i times the cross-entropy of example i
            l = (beta_batch * nn.functional.cross_entropy(y_hat, y_batch, reduction="none")).mean()
            trainer.zero_grad()
            l.backward()
            trainer.step()
            step += 1
            print(json.dumps({"step": step, "loss": l.item().hex()}), flush=True)
            if max_steps is not None and step >= max_steps:
                return
        with torch.no_grad():
            acc = float((net(X_test).argmax(dim=1) == y_test).float().mean())
        print(f"epoch {epoch + 1}: target (test) accuracy {acc:.3f}", flush=True)
'''


def script(cfg: ds.Config, *, seed: int, data_dir: str, threads: int = 1) -> str:
    return "".join([
        parts.head(title="Environment and distribution shift", section="section 4.7",
                   about="Covariate shift on a 2-D toy: a classifier trained on the source inputs and tested on "
                         "target inputs SHIFT further along a curved class boundary, with the plain loss or "
                         "with importance weights beta = exp(h(x)) from a logistic-regression domain classifier.",
                   imports=["argparse", "json", "math"], seed=seed, data_dir=data_dir, threads=threads,
                   data_note="The data are drawn here from the seed: no files needed.",
                   constants={"SHIFT": cfg.shift, "NUM_EXAMPLES": cfg.num_examples, "MODEL": cfg.model,
                              "WEIGHTING": cfg.weighting, "LR": cfg.lr, "NUM_EPOCHS": cfg.num_epochs,
                              "BATCH_SIZE": cfg.batch_size, "SOURCE_MEAN": shift.SOURCE_MEAN,
                              "SHARPNESS": shift.SHARPNESS, "RIDGE": ds.RIDGE, "NUM_HIDDENS": ds.NUM_HIDDENS}),
        BODY, parts.MAIN,
    ])
