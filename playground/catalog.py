"""Every topic page, grouped by the book's chapters. The navigation, the home
page and the page tests all read this one list, so a new page is one entry."""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Topic:
    path: str  # the page file, relative to the repository root
    title: str
    chapter: str
    icon: str  # a :material/...: icon
    blurb: str  # one line for the home page
    section: str = ""  # the book's section number
    training: bool = False  # trains live with the shared panel
    main_control: tuple = ()  # (widget key, a non-default value) for the page tests
    tags: tuple = field(default_factory=tuple)

    @property
    def url_path(self) -> str:
        return self.path.rsplit("/", 1)[-1].removesuffix(".py")


CHAPTERS = [
    "Linear Neural Networks",
    "Multilayer Perceptrons",
    "Builders' Guide",
    "Convolutional Neural Networks",
    "Modern Convolutional Neural Networks",
    "Recurrent Neural Networks",
    "Modern Recurrent Neural Networks",
    "Optimization Algorithms",
]

TOPICS: list[Topic] = [
    Topic("pages/weight_decay.py", "Weight decay", "Multilayer Perceptrons", ":material/compress:",
          "Overfit 200 features with 20 examples, then watch the L2 penalty close the gap.",
          section="3.7", training=True, main_control=("lambd", 3.0)),
    Topic("pages/convexity.py", "Convexity", "Optimization Algorithms", ":material/show_chart:",
          "Jensen's inequality on a chord, and gradient descent on convex and non-convex functions.",
          section="12.2", main_control=("fn", "x*cos(pi x)")),
]


def chapters_in_use() -> list[str]:
    return [c for c in CHAPTERS if any(t.chapter == c for t in TOPICS)]


def by_chapter() -> dict[str, list[Topic]]:
    return {c: [t for t in TOPICS if t.chapter == c] for c in chapters_in_use()}
