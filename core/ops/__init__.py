"""Algorithms the pages picture: convolution arithmetic, searches, statistics of data sets."""
