"""Every topic page, grouped by the book's chapters. The navigation, the home
page and the page tests all read this one list, so a new page is one entry."""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Topic:
    path: str  # the page file, relative to the repository root (in topics/, see README)
    title: str
    chapter: str
    icon: str  # a :material/...: icon
    blurb: str  # one line for the home page
    section: str = ""  # the book's section number
    training: bool = False  # trains live with the shared panel
    main_control: tuple = ()  # (setting name, a non-default value) for the page tests
    tags: tuple = field(default_factory=tuple)

    @property
    def url_path(self) -> str:
        return self.path.rsplit("/", 1)[-1].removesuffix(".py")


CHAPTERS = [  # the book's chapters (d2l 1.0 numbering, as the sections below)
    "Linear Neural Networks for Regression",
    "Linear Neural Networks for Classification",
    "Multilayer Perceptrons",
    "Builders' Guide",
    "Convolutional Neural Networks",
    "Modern Convolutional Neural Networks",
    "Recurrent Neural Networks",
    "Modern Recurrent Neural Networks",
    "Optimization Algorithms",
]

TOPICS: list[Topic] = [
    Topic("topics/linear_regression.py", "Linear regression", "Linear Neural Networks for Regression",
          ":material/trending_up:",
          "The book's synthetic data fitted by minibatch SGD, from scratch or concise; the path down the loss surface.",
          section="3.1-3.5", training=True, main_control=("lr", 0.3)),
    Topic("topics/model_selection.py", "Model selection, underfitting and overfitting",
          "Linear Neural Networks for Regression", ":material/stacked_line_chart:",
          "Fit polynomials with 1 to 20 features to a noisy cubic: underfit, just right, overfit; "
          "pick the degree by K-fold cross-validation.",
          section="3.6", training=True, main_control=("num_features", 20)),
    Topic("topics/weight_decay.py", "Weight decay", "Linear Neural Networks for Regression", ":material/compress:",
          "Overfit 200 features with 20 examples, then watch the L2 penalty close the gap.",
          section="3.7", training=True, main_control=("weight_decay", 3.0)),
    Topic("topics/convexity.py", "Convexity", "Optimization Algorithms", ":material/show_chart:",
          "Jensen's inequality on a chord, and gradient descent on convex and non-convex functions.",
          section="12.2", main_control=("fn", "x*cos(pi x)")),
    Topic("topics/fashion_mnist.py", "Image classification dataset",
          "Linear Neural Networks for Classification", ":material/checkroom:",
          "Fashion-MNIST up close: samples by class, mean images, pixel statistics, minibatch reading speed.",
          section="4.2", main_control=("per_class", 3)),
    Topic("topics/softmax_regression.py", "Softmax regression", "Linear Neural Networks for Classification",
          ":material/bar_chart:",
          "Fashion-MNIST by ten linear scores and a softmax: weights become class templates, a live confusion "
          "matrix, the misclassified images; temperature and the log-sum-exp trick.",
          section="4.1-4.5", training=True, main_control=("lr", 0.3)),
    Topic("topics/distribution_shift.py", "Environment and distribution shift",
          "Linear Neural Networks for Classification", ":material/moving:",
          "Train here, test there: covariate shift corrected by importance weights from a domain classifier, "
          "label shift estimated from a confusion matrix.",
          section="4.7", training=True, main_control=("shift", 3.0)),
    Topic("topics/sequence_models.py", "Sequence models", "Recurrent Neural Networks", ":material/timeline:",
          "An autoregressive MLP learns a noisy sine live: one-step predictions follow it, fed-back multi-step "
          "predictions drift to a constant; k-step-ahead for k = 1 to 64.",
          section="9.1", training=True, main_control=("tau", 16)),
    Topic("topics/text_preprocessing.py", "Text preprocessing", "Recurrent Neural Networks", ":material/text_fields:",
          "Raw text to lines, tokens, a vocabulary with min_freq and <unk>, indices; Zipf's law for n-grams.",
          section="9.2", main_control=("text_source", "Your text")),
    Topic("topics/rnn.py", "Recurrent neural networks from scratch and concise", "Recurrent Neural Networks",
          ":material/loop:",
          "The book's character-level RNN learns The Time Machine live, from scratch and with nn.RNN side by side; "
          "perplexity, generated text and the hidden state over your text.",
          section="9.4-9.6", training=True, main_control=("impl", "concise")),
    Topic("topics/bptt.py", "Backpropagation through time", "Recurrent Neural Networks", ":material/history:",
          "How the last step's gradient reaches earlier hidden states: vanishing and exploding with the spectral "
          "radius of W_hh, truncation, and gradient clipping.",
          section="9.7", main_control=("radius", 1.3)),
    Topic("topics/language_models.py", "Language models and minibatches of text", "Recurrent Neural Networks",
          ":material/view_week:",
          "n-grams and Laplace smoothing; The Time Machine cut into minibatches by random and sequential "
          "partitioning, each subsequence coloured on the text.",
          section="9.3", main_control=("scheme", "random")),
    Topic("topics/mt_dataset.py", "Machine translation dataset", "Modern Recurrent Neural Networks",
          ":material/translate:",
          "English-French pairs: preprocessing, sentence lengths, vocabularies, truncation and padding to num_steps.",
          section="10.5", main_control=("pairs_source", "Your pairs")),
    Topic("topics/seq2seq.py", "Encoder-decoder and seq2seq training", "Modern Recurrent Neural Networks",
          ":material/swap_horiz:",
          "The book's GRU encoder-decoder learns English-French live: shapes, teacher forcing, the masked loss "
          "per token, and BLEU of the book's four sentences after every epoch.",
          section="10.6-10.7", training=True, main_control=("num_layers", 1)),
    Topic("topics/beam_search.py", "Beam search, step by step", "Modern Recurrent Neural Networks",
          ":material/account_tree:",
          "Greedy, beam and exhaustive search on the book's toy example, then beam search over a trained seq2seq.",
          section="10.8", main_control=("beam_k", 3)),
    Topic("topics/gru_lstm.py", "GRU and LSTM gates", "Modern Recurrent Neural Networks", ":material/memory:",
          "Scratch GRU and LSTM cells learn The Time Machine live; watch their gates open and close on your text.",
          section="10.1-10.2", training=True, main_control=("cell", "lstm")),
    Topic("topics/deep_rnn.py", "Deep recurrent neural networks", "Modern Recurrent Neural Networks",
          ":material/stacks:",
          "GRU/LSTM layers stacked 1 to 4 deep learn The Time Machine live; perplexity against depth; every "
          "layer's hidden states on your text.",
          section="10.3", training=True, main_control=("num_layers", 3)),
    Topic("topics/bidirectional_rnn.py", "Bidirectional recurrent neural networks", "Modern Recurrent Neural Networks",
          ":material/swap_horiz:",
          "A bidirectional LSTM language model reaches a low perplexity yet generates garbage; filling in a "
          "blank, where reading both ways really helps.",
          section="10.4", training=True, main_control=("bidirectional", False)),
    Topic("topics/mlp.py", "Multilayer perceptrons and activation functions", "Multilayer Perceptrons",
          ":material/hub:",
          "ReLU, sigmoid, tanh and their derivatives; the book's MLP on Fashion-MNIST; a 2-D toy whose "
          "decision boundary and hidden units are drawn as it learns.",
          section="5.1-5.2", training=True, main_control=("num_hiddens", 64)),
    Topic("topics/backprop.py", "Forward propagation, backward propagation and computational graphs",
          "Multilayer Perceptrons", ":material/device_hub:",
          "Step through the book's one-hidden-layer network forward, then backward by the chain rule; "
          "and the graph autograd records.",
          section="5.3", main_control=("phi", "sigmoid")),
    Topic("topics/initialization.py", "Numerical stability and initialization", "Multilayer Perceptrons",
          ":material/tune:",
          "Vanishing and exploding gradients: zero, N(0, 0.01²), N(0, 1), Xavier and He on a deep MLP, layer by "
          "layer, before and while it trains; symmetry under SGD.",
          section="5.4", training=True, main_control=("init", "normal_1")),
    Topic("topics/dropout.py", "Dropout", "Multilayer Perceptrons", ":material/grain:",
          "The book's dropout MLP on Fashion-MNIST: units drop out per minibatch; "
          "compare p = 0 and the train-test gap.",
          section="5.6", training=True, main_control=("dropout2", 0.0)),
    Topic("topics/house_prices.py", "Predicting house prices on Kaggle", "Multilayer Perceptrons",
          ":material/home_work:",
          "Kaggle's Ames house prices: the book's preprocessing, k folds trained side by side, log RMSE against "
          "the book's, and a submission.csv to download.",
          section="5.7", training=True, main_control=("model", "mlp")),
    Topic("topics/layers_parameters.py", "Layers, modules and parameters", "Builders' Guide",
          ":material/widgets:",
          "Open up the book's nets: the module tree with output shapes, every parameter's shape and statistics, "
          "initializers as histograms, lazy layers, tied parameters and custom layers.",
          section="6.1-6.5", main_control=("init", "xavier")),
    Topic("topics/convolutions.py", "From fully connected layers to convolutions", "Convolutional Neural Networks",
          ":material/blur_on:",
          "Translation invariance and locality; the book's edge detector, a kernel learned live from one image, "
          "and a 3x3 kernel editor on Fashion-MNIST or your own image.",
          section="7.1-7.2", training=True, main_control=("kernel", "sharpen")),
    Topic("topics/file_io.py", "File I/O", "Builders' Guide", ":material/save:",
          "Tensors saved and loaded; the book's MLP's parameters downloaded mid-training, uploaded back, checked "
          "(Y_clone == Y) and trained on; unsafe files refused.",
          section="6.6", training=True, main_control=("num_hiddens", 64)),
    Topic("topics/gpus.py", "GPUs", "Builders' Guide", ":material/developer_board:",
          "The devices this server has, and the same matrix product and MLP epoch timed on the CPU and on each GPU: "
          "GFLOP/s and examples/sec.",
          section="6.7", main_control=("n", 2048)),
    Topic("topics/padding_stride.py", "Padding and stride", "Convolutional Neural Networks", ":material/grid_on:",
          "Which input cells each output reads, the output-shape formula with your numbers, real images, channels.",
          section="7.3-7.4", main_control=("s_h", 3)),
    Topic("topics/pooling.py", "Pooling", "Convolutional Neural Networks", ":material/filter_center_focus:",
          "Max and average pooling with the winning cell outlined, and how pooling tolerates a one-pixel shift.",
          section="7.5", main_control=("pool_mode", "avg")),
    Topic("topics/lenet.py", "LeNet: feature maps while it learns", "Convolutional Neural Networks",
          ":material/layers:",
          "The book's LeNet trains on Fashion-MNIST while every layer's feature maps, the learned kernels and one "
          "cell's window-times-kernel sum are redrawn; sigmoid and average pooling, or ReLU and max pooling.",
          section="7.6", training=True, main_control=("modern", True)),
    Topic("topics/batch_norm.py", "Batch normalization", "Modern Convolutional Neural Networks", ":material/equalizer:",
          "LeNet with and without batch norm side by side: sigmoid inputs, gamma, beta and running statistics.",
          section="8.5", training=True, main_control=("lr", 3.0)),
    Topic("topics/modern_cnns.py", "Modern CNNs: AlexNet to DenseNet, trained and compared",
          "Modern Convolutional Neural Networks", ":material/account_tree:",
          "AlexNet, VGG, NiN, GoogLeNet, ResNet and DenseNet at a chosen width and input size: layer tables with "
          "FLOPs, their blocks drawn, a live run and races against LeNet.",
          section="8.1-8.7", training=True, main_control=("net", "densenet")),
]


def chapters_in_use() -> list[str]:
    return [c for c in CHAPTERS if any(t.chapter == c for t in TOPICS)]


def section_key(topic: Topic) -> tuple[int, ...]:
    """'10.1-10.2' -> (10, 1): the book's order."""
    first = topic.section.split("-")[0]
    return tuple(int(p) for p in first.split(".") if p.isdigit()) or (999,)


def by_chapter() -> dict[str, list[Topic]]:
    """Chapters in the book's order, each with its topics in section order."""
    return {c: sorted((t for t in TOPICS if t.chapter == c), key=section_key) for c in chapters_in_use()}
