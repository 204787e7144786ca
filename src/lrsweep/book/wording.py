"""The book's wording helpers, one place each: lists, plurals, the tolerance, readable
problem names, the study's design in words."""
from __future__ import annotations

from ..store import datasets, optim, problems
from ..stats import analysis

KINDS = {"logreg": "logistic regression", "mlp": "MLP", "2c2d": "2c2d CNN", "3c3d": "3c3d CNN"}


def readable(problem: str) -> str:
    """A problem as a reader names it: "Fashion-MNIST (2c2d CNN)"."""
    if problem not in problems.PROBLEMS:  # a problem of someone's own: its id is its name
        return problem
    label = datasets.get(problems.get(problem).dataset).label.split(" (")[0]
    return f"{label} ({KINDS.get(problem.split('_', 1)[1], problem)})"


def optimizer_name(name: str) -> str:
    """An optimizer as a reader names it: its label here ("SGD-momentum"), or another
    benchmark's identifier with spaces ("momentum")."""
    return optim.get(name).label if name in optim.OPTIMIZERS else name.replace("_", " ")


def term(name: str) -> str:
    """A hyperparameter (or an interaction of two) as the text names it: "lr x batch size"."""
    return name.replace("batch_size", "batch size")


def tolerance() -> str:
    """The verdicts' tolerance as the prose says it: "1 point"."""
    return f"{100 * analysis.DELTA:g} point"


def plural(n: int, word: str) -> str:
    """"1 epoch", "10 epochs"."""
    return f"{n} {word}" + ("s" if n != 1 else "")


def and_list(items: list[str]) -> str:
    """"a", "a and b", "a, b and c"."""
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def problems_phrase(n: int, total: int, names: list[str]) -> str:
    """"2 of 6 problems (MNIST (MLP) and CIFAR-10 (3c3d CNN))"."""
    return f"{n} of {plural(total, 'problem')} ({and_list([readable(p) for p in names])})"


def design_phrase(problems_: list[str], study) -> str:
    """The staged design of ``study`` (an ``LrStudy``) in words, with each problem's
    stage-2 seed count and where stage 3 adds the tuned lr's neighbours."""
    by_count: dict[int, list[str]] = {}
    for p in problems_:
        by_count.setdefault(len(study.stage2_seeds_of(p)), []).append(p)
    seeds = " or ".join(f"{n}" + (f" ({and_list([readable(p) for p in ps])})" if len(by_count) > 1 else "")
                        for n, ps in by_count.items())
    text = (f"every learning rate of the grid is trained with one seed; the default and the "
            f"{study.stage2_top} best by validation accuracy get {seeds} seeds")
    third = [p for p in problems_ if study.stages_of(p) == 3]
    if third:
        on = "" if len(third) == len(problems_) else f" (on {and_list([readable(p) for p in third])})"
        text += (f"; then the grid's two neighbours of the learning rate tuned among them get as "
                 f"many{on}")
    return text
