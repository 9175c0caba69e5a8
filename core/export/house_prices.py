"""Show the PyTorch: predicting house prices on Kaggle (core.experiments.house_prices,
section 5.7): the book's preprocessing written with the csv module, its linear
model (or the page's MLP), Adam on the squared error, the log RMSE each epoch."""
from __future__ import annotations

from core.data import house
from core.experiments import house_prices as hp
from core.export import _ch3to7 as parts

BODY = '''

# What pandas.read_csv reads as a missing value (its default na_values; "None" and "NA" are used here).
MISSING = {"", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND", "1.#QNAN", "<NA>",
           "N/A", "NA", "NULL", "NaN", "None", "n/a", "nan", "null"}


def read_csv(path):
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def is_number(text):
    try:
        float(text)
        return True
    except ValueError:
        return False


def preprocess(train_rows, test_rows):
    """The book's preprocessing (5.7.4), as pandas does it: train and test features together;
    a numeric feature standardised by its mean and standard deviation (n - 1), missing numbers
    then set to 0; any other feature one-hot, its categories sorted, plus a column for missing."""
    rows = train_rows + test_rows
    features = [c for c in train_rows[0] if c not in ("Id", "SalePrice")]
    numeric, categorical = [], []
    for name in features:
        values = [None if r[name] in MISSING else r[name] for r in rows]
        if all(v is None or is_number(v) for v in values):
            xs = [float(v) for v in values if v is not None]
            mean = math.fsum(xs) / len(xs)
            std = math.sqrt(math.fsum((x - mean) ** 2 for x in xs) / (len(xs) - 1))
            numeric.append([0.0 if v is None else (float(v) - mean) / std for v in values])
        else:
            for category in sorted({v for v in values if v is not None}):
                categorical.append([1.0 if v == category else 0.0 for v in values])
            categorical.append([1.0 if v is None else 0.0 for v in values])
    all_features = torch.tensor(numeric + categorical, dtype=torch.float64).T.float()
    n_train = len(train_rows)
    labels = torch.tensor([float(r["SalePrice"]) for r in train_rows], dtype=torch.float32).reshape(-1, 1)
    return all_features[:n_train], labels, all_features[n_train:]


def get_k_fold_data(k, i, X, y):
    """The book's get_k_fold_data (5.7.6): fold i of k (n // k rows, in order) validates."""
    fold_size = X.shape[0] // k
    parts = [(X[j * fold_size:(j + 1) * fold_size], y[j * fold_size:(j + 1) * fold_size]) for j in range(k)]
    X_valid, y_valid = parts[i]
    X_train = torch.cat([p[0] for j, p in enumerate(parts) if j != i])
    y_train = torch.cat([p[1] for j, p in enumerate(parts) if j != i])
    return X_train, y_train, X_valid, y_valid


''' + parts.LINEAR + '''

def get_net(in_features):
    """The book's get_net (5.7.5): a linear model; or an MLP with one hidden layer of ReLU units."""
    if MODEL == "linear":
        return nn.Sequential(linear(in_features, 1))
    return nn.Sequential(linear(in_features, NUM_HIDDENS), nn.ReLU(), linear(NUM_HIDDENS, 1))


def log_rmse(net, features, labels):
    """The competition's score (5.7.5): the RMSE of the logarithms, predictions clamped to [1, inf)."""
    with torch.no_grad():
        clipped = torch.clamp(net(features), 1, float("inf"))
        return torch.sqrt(nn.MSELoss()(torch.log(clipped), torch.log(labels))).item()


def run(data_dir, max_steps=None):
    train_rows = read_csv(os.path.join(data_dir, "kaggle_house_pred_train.csv"))
    test_rows = read_csv(os.path.join(data_dir, "kaggle_house_pred_test.csv"))
    X, y, X_test = preprocess(train_rows, test_rows)
    valid = None
    if FOLD >= 0:  # one fold of K-fold cross-validation; FOLD = -1: every training house (train_and_pred)
        X, y, *valid = get_k_fold_data(K, FOLD, X, y)
    net = get_net(X.shape[1])
    loss = nn.MSELoss(reduction="none")
    trainer = torch.optim.Adam(net.parameters(), lr=LR, weight_decay=WEIGHT_DECAY)
    step = 0
    for epoch in range(NUM_EPOCHS):
        net.train()
        for X_batch, y_batch in data_iter(BATCH_SIZE, X, y):
            y_hat = net(X_batch)
            l = loss(y_hat, y_batch).mean()
            trainer.zero_grad()
            l.backward()
            trainer.step()
            step += 1
            print(json.dumps({"step": step, "loss": l.item().hex()}), flush=True)
            if max_steps is not None and step >= max_steps:
                return
        scores = f"train log rmse {log_rmse(net, X, y):f}"
        if valid is not None:
            scores += f", valid log rmse {log_rmse(net, *valid):f}"
        print(f"epoch {epoch + 1}: {scores}", flush=True)
'''


def script(cfg: hp.Config, *, seed: int, data_dir: str, threads: int = 1) -> str:
    return "".join([
        parts.head(title="Predicting house prices on Kaggle", section="section 5.7",
                   about="Kaggle's Ames house prices, preprocessed as the book does, fitted by "
                         + ("the book's linear model" if cfg.model == "linear" else "an MLP with one hidden layer")
                         + " with Adam on the squared error; scored by the log RMSE.",
                   imports=["argparse", "csv", "json", "math", "os"], seed=seed, data_dir=data_dir,
                   threads=threads,
                   data_note=f"Reads {house.TRAIN_NAME} and {house.TEST_NAME} from DATA_DIR.",
                   constants={"MODEL": cfg.model, "LR": cfg.lr, "WEIGHT_DECAY": cfg.weight_decay,
                              "BATCH_SIZE": cfg.batch_size, "NUM_EPOCHS": cfg.num_epochs, "K": cfg.k,
                              "FOLD": cfg.fold, "NUM_HIDDENS": cfg.num_hiddens}),
        parts.DATA_ITER, BODY, parts.MAIN,
    ])
