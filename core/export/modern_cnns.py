"""Show the PyTorch for the modern-CNNs page (sections 8.1-8.7): LeNet,
AlexNet, VGG-11, NiN, GoogLeNet, ResNet-18 or DenseNet on Fashion-MNIST at the
page's width factor and input size (each minibatch resized with F.interpolate,
as the engine does), minibatch SGD on the cross-entropy (train_ch6). Only the
chosen net's code goes into the script."""
from __future__ import annotations

from core.experiments import modern_cnns as mc
from core.export import _ch3to7, _text

DATA = '''

# ------------------------------------------------ Fashion-MNIST (section 4.2)
''' + _ch3to7.READ_IDX + '''

# images as float32 in [0, 1], (n, 1, 28, 28); the first NUM_TRAIN and NUM_TEST of them
train_images = read_idx("train-images-idx3-ubyte.gz", args.data_dir).unsqueeze(1).float().div_(255)[:NUM_TRAIN]
train_labels = read_idx("train-labels-idx1-ubyte.gz", args.data_dir).long()[:NUM_TRAIN]
test_images = read_idx("t10k-images-idx3-ubyte.gz", args.data_dir).unsqueeze(1).float().div_(255)[:NUM_TEST]
test_labels = read_idx("t10k-labels-idx1-ubyte.gz", args.data_dir).long()[:NUM_TEST]


def resize(X):
    """Each minibatch enlarged to SIZE x SIZE (the book's transforms.Resize), bilinear."""
    if SIZE == X.shape[-1]:
        return X
    return F.interpolate(X, size=SIZE, mode="bilinear", align_corners=False)


def c(channels):
    """A channel count (or hidden width) divided by the width factor, at least 1."""
    return max(1, channels // WIDTH)


class Dropout(nn.Module):
    """Dropout (section 5.6), its masks drawn from the run's gen_noise."""

    def __init__(self, p):
        super().__init__()
        self.p = p

    def forward(self, X):
        if not self.training:
            return X
        mask = torch.rand(X.shape, generator=gen_noise) > self.p
        return mask.float() * X / (1.0 - self.p)


def flat_features(features, size):
    """The number of features after `features` for one SIZE x SIZE image (a pass of zeros)."""
    features.eval()
    with torch.no_grad():
        out = features(torch.zeros(1, 1, size, size))
    features.train()
    return out[0].numel()
'''

INIT = '''

def init_cnn(net):
    """Xavier-uniform weights for every Linear and Conv2d, in module order, from
    the run's generator; zero biases (the book's init_cnn)."""
    with torch.no_grad():
        for m in net.modules():
            if isinstance(m, (nn.Linear, nn.Conv2d)):
                receptive_field = m.weight[0][0].numel()
                fan_in, fan_out = m.weight.shape[1] * receptive_field, m.weight.shape[0] * receptive_field
                bound = (6.0 / (fan_in + fan_out)) ** 0.5
                nn.init.uniform_(m.weight, -bound, bound, generator=gen_init)
                if m.bias is not None:
                    m.bias.zero_()
    return net
'''

NETS = {
    "lenet": '''

# ------------------------------------------------------------ LeNet (section 7.6)
def get_net():
    return nn.Sequential(
        nn.Conv2d(1, 6, kernel_size=5, padding=2), nn.Sigmoid(), nn.AvgPool2d(kernel_size=2, stride=2),
        nn.Conv2d(6, 16, kernel_size=5), nn.Sigmoid(), nn.AvgPool2d(kernel_size=2, stride=2),
        nn.Flatten(),
        nn.Linear(16 * 5 * 5, 120), nn.Sigmoid(),
        nn.Linear(120, 84), nn.Sigmoid(),
        nn.Linear(84, 10))
''',
    "alexnet": '''

# --------------------------------------------------------- AlexNet (section 8.1)
def get_net():
    features = [
        nn.Conv2d(1, c(96), kernel_size=11, stride=4, padding=1), nn.ReLU(),
        nn.MaxPool2d(kernel_size=3, stride=2),
        nn.Conv2d(c(96), c(256), kernel_size=5, padding=2), nn.ReLU(),
        nn.MaxPool2d(kernel_size=3, stride=2),
        nn.Conv2d(c(256), c(384), kernel_size=3, padding=1), nn.ReLU(),
        nn.Conv2d(c(384), c(384), kernel_size=3, padding=1), nn.ReLU(),
        nn.Conv2d(c(384), c(256), kernel_size=3, padding=1), nn.ReLU(),
        nn.MaxPool2d(kernel_size=3, stride=2),
        nn.Flatten()]
    n = flat_features(nn.Sequential(*features), SIZE)
    return nn.Sequential(
        *features,
        nn.Linear(n, c(4096)), nn.ReLU(), Dropout(0.5),
        nn.Linear(c(4096), c(4096)), nn.ReLU(), Dropout(0.5),
        nn.Linear(c(4096), 10))
''',
    "vgg": '''

# ---------------------------------------------------------- VGG-11 (section 8.2)
def vgg_block(num_convs, in_channels, out_channels):
    layers = []
    for _ in range(num_convs):
        layers += [nn.Conv2d(in_channels, out_channels, kernel_size=3, padding=1), nn.ReLU()]
        in_channels = out_channels
    return nn.Sequential(*layers, nn.MaxPool2d(kernel_size=2, stride=2))


def get_net(conv_arch=((1, 64), (1, 128), (2, 256), (2, 512), (2, 512))):
    blocks, in_channels = [], 1
    for num_convs, out_channels in conv_arch:
        blocks.append(vgg_block(num_convs, in_channels, c(out_channels)))
        in_channels = c(out_channels)
    blocks.append(nn.Flatten())
    n = flat_features(nn.Sequential(*blocks), SIZE)
    return nn.Sequential(
        *blocks,
        nn.Linear(n, c(4096)), nn.ReLU(), Dropout(0.5),
        nn.Linear(c(4096), c(4096)), nn.ReLU(), Dropout(0.5),
        nn.Linear(c(4096), 10))
''',
    "nin": '''

# ------------------------------------------------------------- NiN (section 8.3)
def nin_block(in_channels, out_channels, kernel_size, strides, padding):
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, kernel_size, strides, padding), nn.ReLU(),
        nn.Conv2d(out_channels, out_channels, kernel_size=1), nn.ReLU(),
        nn.Conv2d(out_channels, out_channels, kernel_size=1), nn.ReLU())


def get_net():
    return nn.Sequential(
        nin_block(1, c(96), kernel_size=11, strides=4, padding=0),
        nn.MaxPool2d(3, stride=2),
        nin_block(c(96), c(256), kernel_size=5, strides=1, padding=2),
        nn.MaxPool2d(3, stride=2),
        nin_block(c(256), c(384), kernel_size=3, strides=1, padding=1),
        nn.MaxPool2d(3, stride=2),
        Dropout(0.5),
        nin_block(c(384), 10, kernel_size=3, strides=1, padding=1),  # 10 classes
        nn.AdaptiveAvgPool2d((1, 1)),
        nn.Flatten())
''',
    "googlenet": '''

# ------------------------------------------------------- GoogLeNet (section 8.4)
class Inception(nn.Module):
    """Four paths, concatenated on the channel axis."""

    def __init__(self, in_channels, c1, c2, c3, c4):
        super().__init__()
        self.p1_1 = nn.Conv2d(in_channels, c1, kernel_size=1)
        self.p2_1 = nn.Conv2d(in_channels, c2[0], kernel_size=1)
        self.p2_2 = nn.Conv2d(c2[0], c2[1], kernel_size=3, padding=1)
        self.p3_1 = nn.Conv2d(in_channels, c3[0], kernel_size=1)
        self.p3_2 = nn.Conv2d(c3[0], c3[1], kernel_size=5, padding=2)
        self.p4_1 = nn.MaxPool2d(kernel_size=3, stride=1, padding=1)
        self.p4_2 = nn.Conv2d(in_channels, c4, kernel_size=1)
        self.out_channels = c1 + c2[1] + c3[1] + c4

    def forward(self, x):
        p1 = F.relu(self.p1_1(x))
        p2 = F.relu(self.p2_2(F.relu(self.p2_1(x))))
        p3 = F.relu(self.p3_2(F.relu(self.p3_1(x))))
        p4 = F.relu(self.p4_2(self.p4_1(x)))
        return torch.cat((p1, p2, p3, p4), dim=1)


def inc(in_channels, c1, c2, c3, c4):
    """An Inception block with the book's channels divided by the width factor."""
    return Inception(in_channels, c(c1), (c(c2[0]), c(c2[1])), (c(c3[0]), c(c3[1])), c(c4))


def get_net():
    b1 = nn.Sequential(nn.Conv2d(1, c(64), kernel_size=7, stride=2, padding=3), nn.ReLU(),
                       nn.MaxPool2d(kernel_size=3, stride=2, padding=1))
    b2 = nn.Sequential(nn.Conv2d(c(64), c(64), kernel_size=1), nn.ReLU(),
                       nn.Conv2d(c(64), c(192), kernel_size=3, padding=1), nn.ReLU(),
                       nn.MaxPool2d(kernel_size=3, stride=2, padding=1))
    i3a = inc(c(192), 64, (96, 128), (16, 32), 32)
    i3b = inc(i3a.out_channels, 128, (128, 192), (32, 96), 64)
    b3 = nn.Sequential(i3a, i3b, nn.MaxPool2d(kernel_size=3, stride=2, padding=1))
    i4 = [inc(i3b.out_channels, 192, (96, 208), (16, 48), 64)]
    for spec in ((160, (112, 224), (24, 64), 64), (128, (128, 256), (24, 64), 64),
                 (112, (144, 288), (32, 64), 64), (256, (160, 320), (32, 128), 128)):
        i4.append(inc(i4[-1].out_channels, *spec))
    b4 = nn.Sequential(*i4, nn.MaxPool2d(kernel_size=3, stride=2, padding=1))
    i5a = inc(i4[-1].out_channels, 256, (160, 320), (32, 128), 128)
    i5b = inc(i5a.out_channels, 384, (192, 384), (48, 128), 128)
    b5 = nn.Sequential(i5a, i5b, nn.AdaptiveAvgPool2d((1, 1)), nn.Flatten())
    return nn.Sequential(b1, b2, b3, b4, b5, nn.Linear(i5b.out_channels, 10))
''',
    "resnet": '''

# ------------------------------------------------------- ResNet-18 (section 8.6)
class Residual(nn.Module):
    """Two 3x3 convolutions with batch norm; the input added back (through a 1x1
    convolution when the shape changes)."""

    def __init__(self, in_channels, num_channels, use_1x1conv=False, strides=1):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, num_channels, kernel_size=3, padding=1, stride=strides)
        self.conv2 = nn.Conv2d(num_channels, num_channels, kernel_size=3, padding=1)
        self.conv3 = nn.Conv2d(in_channels, num_channels, kernel_size=1, stride=strides) if use_1x1conv else None
        self.bn1 = nn.BatchNorm2d(num_channels)
        self.bn2 = nn.BatchNorm2d(num_channels)

    def forward(self, X):
        Y = F.relu(self.bn1(self.conv1(X)))
        Y = self.bn2(self.conv2(Y))
        if self.conv3 is not None:
            X = self.conv3(X)
        return F.relu(Y + X)


def resnet_block(in_channels, num_channels, num_residuals, first_block=False):
    blk = []
    for i in range(num_residuals):
        if i == 0 and not first_block:
            blk.append(Residual(in_channels, num_channels, use_1x1conv=True, strides=2))
        else:
            blk.append(Residual(num_channels, num_channels))
    return nn.Sequential(*blk)


def get_net():
    b1 = nn.Sequential(nn.Conv2d(1, c(64), kernel_size=7, stride=2, padding=3), nn.BatchNorm2d(c(64)), nn.ReLU(),
                       nn.MaxPool2d(kernel_size=3, stride=2, padding=1))
    return nn.Sequential(
        b1,
        resnet_block(c(64), c(64), 2, first_block=True),
        resnet_block(c(64), c(128), 2),
        resnet_block(c(128), c(256), 2),
        resnet_block(c(256), c(512), 2),
        nn.AdaptiveAvgPool2d((1, 1)), nn.Flatten(),
        nn.Linear(c(512), 10))
''',
    "densenet": '''

# -------------------------------------------------------- DenseNet (section 8.7)
def conv_block(in_channels, num_channels):
    return nn.Sequential(nn.BatchNorm2d(in_channels), nn.ReLU(),
                         nn.Conv2d(in_channels, num_channels, kernel_size=3, padding=1))


class DenseBlock(nn.Module):
    """Each conv block reads the block's input and every earlier conv block's output."""

    def __init__(self, num_convs, in_channels, num_channels):
        super().__init__()
        self.net = nn.Sequential(*(conv_block(in_channels + i * num_channels, num_channels)
                                   for i in range(num_convs)))
        self.out_channels = in_channels + num_convs * num_channels

    def forward(self, X):
        for blk in self.net:
            Y = blk(X)
            X = torch.cat((X, Y), dim=1)
        return X


def transition_block(in_channels, num_channels):
    return nn.Sequential(nn.BatchNorm2d(in_channels), nn.ReLU(), nn.Conv2d(in_channels, num_channels, kernel_size=1),
                         nn.AvgPool2d(kernel_size=2, stride=2))


def get_net(num_convs_in_dense_blocks=(4, 4, 4, 4), growth_rate=32):
    layers = [nn.Sequential(nn.Conv2d(1, c(64), kernel_size=7, stride=2, padding=3), nn.BatchNorm2d(c(64)),
                            nn.ReLU(), nn.MaxPool2d(kernel_size=3, stride=2, padding=1))]
    num_channels, growth = c(64), c(growth_rate)
    for i, num_convs in enumerate(num_convs_in_dense_blocks):
        block = DenseBlock(num_convs, num_channels, growth)
        layers.append(block)
        num_channels = block.out_channels
        if i != len(num_convs_in_dense_blocks) - 1:  # a transition halves the channels
            layers.append(transition_block(num_channels, num_channels // 2))
            num_channels //= 2
    return nn.Sequential(*layers, nn.BatchNorm2d(num_channels), nn.ReLU(), nn.AdaptiveAvgPool2d((1, 1)),
                         nn.Flatten(), nn.Linear(num_channels, 10))
''',
}

TRAIN = '''

# ------------------------------------------------------ training (train_ch6)
def evaluate_accuracy(net, images, labels):
    """Test accuracy in eval mode (batch norm's running statistics, no dropout)."""
    net.eval()
    correct = 0
    with torch.no_grad():
        for i in range(0, len(images), BATCH_SIZE):
            y_hat = net(resize(images[i: i + BATCH_SIZE]))
            correct += int((y_hat.argmax(dim=1) == labels[i: i + BATCH_SIZE]).sum())
    net.train()
    return correct / len(labels)


def train_ch6(net, num_epochs, lr, max_steps=None):
    loss = nn.CrossEntropyLoss(reduction="none")
    trainer = torch.optim.SGD(net.parameters(), lr=lr)
    step = 0
    for epoch in range(num_epochs):
        order = torch.randperm(len(train_images), generator=gen_data)  # this epoch's minibatch order
        for i in range(0, len(train_images), BATCH_SIZE):
            idx = order[i: i + BATCH_SIZE]
            X, y = resize(train_images[idx]), train_labels[idx]
            net.train()
            y_hat = net(X)
            l = loss(y_hat, y).mean()
            trainer.zero_grad(set_to_none=True)
            l.backward()
            trainer.step()
            step += 1
            report(step, l)
            if step == max_steps:
                return
        print(f"epoch {epoch + 1}: test accuracy {evaluate_accuracy(net, test_images, test_labels):.3f}",
              flush=True)


net = init_cnn(get_net())
train_ch6(net, NUM_EPOCHS, LR, args.steps)
'''


def script(cfg, *, seed: int, data_dir: str) -> str:
    size = mc.input_size(cfg)
    return _text.script_of(
        _text.header(f"{mc.NETS[cfg.net]} on Fashion-MNIST (d2l chapter 8)",
                     f"The book's {mc.NETS[cfg.net].split(' (')[0]} with every channel count divided by the "
                     f"width factor WIDTH, on the first NUM_TRAIN Fashion-MNIST images resized to SIZE x SIZE "
                     "per minibatch; minibatch SGD on the cross-entropy, test accuracy after every epoch "
                     "(train_ch6).", seed=seed,
                     data="The data: Fashion-MNIST's four idx files (train-images-idx3-ubyte.gz, ...) in "
                          "DATA_DIR or DATA_DIR/fashion-mnist; --data-dir points elsewhere."),
        "# The page's settings (its Config), as the page resolves them for this net\n",
        _text.constants(NET=cfg.net, WIDTH=mc.width(cfg), SIZE=size, LR=mc.learning_rate(cfg),
                        BATCH_SIZE=mc.batch_size(cfg), NUM_TRAIN=cfg.num_train, NUM_TEST=cfg.num_test,
                        NUM_EPOCHS=cfg.num_epochs, SEED=int(seed), DATA_DIR=str(data_dir)),
        _text.ARGS, _text.GENERATORS, _text.REPORT, DATA, INIT, NETS[cfg.net], TRAIN)
