"""Statistics of an image classification data set (core.ops.image_stats)."""
import numpy as np
import pytest
import torch

from core.ops import image_stats as ds
from core.train.trainer import Batches


def small(n=50, seed=0):
    gen = torch.Generator().manual_seed(seed)
    X = torch.rand(n, 1, 28, 28, generator=gen)
    y = torch.arange(n) % 5
    return X, y


def test_class_counts_and_means_match_a_plain_loop():
    X, y = small()
    y[:3] = 0  # uneven classes
    counts = ds.class_counts(y, 6)
    assert counts.tolist() == [int((y == c).sum()) for c in range(6)]
    means = ds.class_means(X, y, 6)
    for c in range(5):
        np.testing.assert_allclose(means[c], X[y == c, 0].mean(0).numpy(), rtol=1e-5, atol=1e-6)
    assert np.isnan(means[5]).all()  # no image of class 5


def test_pixel_stats_match_torch(monkeypatch):
    monkeypatch.setattr(ds, "CHUNK", 7)  # several chunks
    X, y = small(53)
    s = ds.pixel_stats(X, y, 5)
    assert s.mean == pytest.approx(float(X.double().mean()), rel=1e-9)
    assert s.std == pytest.approx(float(X.double().std(correction=0)), rel=1e-9)
    for c in range(5):
        assert s.class_mean[c] == pytest.approx(float(X[y == c].double().mean()), rel=1e-9)
        assert s.class_std[c] == pytest.approx(float(X[y == c].double().std(correction=0)), rel=1e-9)
    assert s.count.tolist() == ds.class_counts(y, 5).tolist()


def test_sample_indices_are_seeded_distinct_and_of_the_class():
    X, y = small(100)
    a = ds.sample_indices(y, [3, 1], 4, torch.Generator().manual_seed(1))
    b = ds.sample_indices(y, [3, 1], 4, torch.Generator().manual_seed(1))
    c = ds.sample_indices(y, [3, 1], 4, torch.Generator().manual_seed(2))
    assert a == b and a != c
    for cls, row in zip([3, 1], a):
        assert len(set(row)) == 4 and all(int(y[i]) == cls for i in row)
    state = torch.random.get_rng_state()
    ds.sample_indices(y, [0], 50, torch.Generator().manual_seed(0))  # more than the class holds
    assert torch.equal(state, torch.random.get_rng_state()), "the global RNG is untouched"
    assert len(ds.sample_indices(y, [0], 50, torch.Generator().manual_seed(0))[0]) == 20


def test_image_grid_places_images_with_gaps():
    imgs = np.arange(4 * 2 * 3, dtype=float).reshape(4, 2, 3)
    grid = ds.image_grid(imgs, [[0, 1], [3]], pad=1)
    assert grid.shape == (2 * 2 + 1, 2 * 3 + 1)
    np.testing.assert_array_equal(grid[0:2, 0:3], imgs[0])
    np.testing.assert_array_equal(grid[0:2, 4:7], imgs[1])
    np.testing.assert_array_equal(grid[3:5, 0:3], imgs[3])
    assert np.isnan(grid[2]).all() and np.isnan(grid[3:5, 4:7]).all()
    assert ds.image_grid(torch.zeros(3, 1, 2, 2)).shape == (2, 3 * 2 + 2 * 2)


def test_time_epoch_touches_every_example():
    X, y = small(103)
    t = ds.time_epoch(Batches(X, y, batch_size=10), torch.Generator().manual_seed(0))
    assert t.num_batches == 11 and t.num_examples == 103 and t.seconds >= 0
