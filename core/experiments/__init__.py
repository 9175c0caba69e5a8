"""One module per experiment: its typed Config with the book's values as defaults,
and `build(cfg, data=None, *, seed=0, device="cpu")` returning a Trainer (or a dict
name -> Trainer trained side by side); `data` is what the experiment trains on
(None when it draws its own), so any experiment can be built by name."""
