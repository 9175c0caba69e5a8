"""The book's networks: MLP with dropout, LeNet and batch norm, gated RNNs, seq2seq."""
