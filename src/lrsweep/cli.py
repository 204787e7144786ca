"""Command line: ``python -m lrsweep data|problems|optimizers|sweep|results|book ...``.

Bad input is reported as one line ``lrsweep: error: ...`` with exit status 2, no traceback.
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from .errors import UsageError
from .engine.spec import BATCHING, EXECUTORS
from .store import paths


def _value(text: str):
    """--set values: int, float or bool when they look like one, else the string."""
    low = text.lower()
    if low in ("true", "false"):
        return low == "true"
    for cast in (int, float):
        try:
            return cast(text)
        except ValueError:
            pass
    return text


def _store_options(p) -> None:
    """Where records go and how runs are executed: the options study and design share."""
    p.add_argument("--results", type=Path, default=paths.PUBLISHED_RUNS,
                   help="record store (default: the published runs, data/runs)")
    p.add_argument("--executor", default="auto", choices=EXECUTORS)
    p.add_argument("--workers", type=int, help="worker processes (default: one per core)")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.add_argument("--with-predictions", action="store_true",
                   help="also retrain stored runs whose records lack per-example test "
                        "predictions (schema 2), replacing them")


def _setting(text: str) -> tuple[str, object]:
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    return key.strip(), _value(value.strip())


def cmd_data(args) -> int:
    from .store import datasets
    names = args.names or list(datasets.DATASETS)
    for n in names:
        datasets.get(n)  # unknown names fail before any work
    if args.action == "list":
        for ds in datasets.DATASETS.values():
            print(f"{ds.name:14} {ds.label:24} files={len(ds.files)} valid={ds.n_valid}"
                  f"  download={'yes' if ds.url else 'no (mirror only)'}")
        return 0
    ok = True
    for n in names:
        try:
            loc = datasets.fetch(n) if args.action == "fetch" else datasets.verify(n)
        except UsageError as e:
            print(f"{n:14} {'download':10} FAILED  {e}")
            ok = False
            continue
        status = "ok" if loc.ok else ("MISSING" if loc.source == "missing" else "FAILED")
        where = loc.directory if loc.directory else "-"
        print(f"{n:14} {loc.source:10} {status:7} {where}")
        for p in loc.errors:
            print(f"    {p}")
        ok &= loc.ok
    return 0 if ok else 1


def cmd_problems(args) -> int:
    from .engine import problems
    print(f"{'problem':22} {'dataset':14} {'params':>10} {'train FLOPs/example':>20}  description")
    for p in problems.PROBLEMS.values():
        print(f"{p.name:22} {p.dataset:14} {problems.n_params(p):>10,} "
              f"{problems.train_flops(p):>20,}  {p.description}")
    return 0


def cmd_optimizers(args) -> int:
    from .store import optim
    for o in optim.OPTIMIZERS.values():
        hp = ", ".join(f"{k}={v}" for k, v in {"lr": o.default_lr, **o.defaults}.items())
        print(f"{o.name:20} {o.description}\n{'':20} {hp}")
    return 0


def cmd_sweep(args) -> int:
    from .engine.sweep import SweepSpec, run_sweep
    spec = SweepSpec(args.problem, args.optimizer, args.lr, args.seeds, args.epochs,
                     dict(args.set or []))
    table = run_sweep(spec, args.results, executor=args.executor, workers=args.workers,
                      scheduler=args.scheduler, threads=args.threads, batching=args.batching,
                      quiet=args.quiet)
    if not args.quiet:
        status = table.groupby("run_id")["status"].last()  # one per run, diverged ones included
        print(f"{len(status)} runs in {args.results}; "
              f"{(status == 'diverged').sum()} diverged, {(status == 'failed').sum()} failed")
    return 0


def _per_problem(module: str, what: str):
    """A command that runs ``lrsweep.<module>.run`` for each problem named (all names
    checked before any work starts) and says how many runs it holds."""
    def cmd(args) -> int:
        import importlib

        from .study import lr_study
        mod = importlib.import_module(f"lrsweep.{module}")
        for p in args.problem:
            getattr(mod, "check", lr_study.budget)(p)
        for p in args.problem:
            table = mod.run(p, args.results, executor=args.executor, workers=args.workers,
                            need_predictions=args.with_predictions, quiet=args.quiet)
            if not args.quiet:
                print(f"{p}: {table.run_id.nunique()} runs of {what} in {args.results}")
        return 0
    return cmd


cmd_study = _per_problem("study.lr_study", "the published study")
cmd_beyond = _per_problem("study.beyond", "the alternatives")
cmd_batch = _per_problem("study.batch_lr", "the batch-size sweep")
cmd_long = _per_problem("study.budget", "the long-budget runs")


def cmd_design(args) -> int:
    from .study import design
    from .engine.sweep import run_sweep
    n, epochs = args.n, args.epochs
    if n is None or epochs is None:
        published = design.PUBLISHED.get((args.problem, args.optimizer))
        if published is None:
            raise UsageError(f"no published design of {args.optimizer} on {args.problem}; "
                             "give --n and --epochs")
        n, epochs = n or published[0], epochs or published[1]
    specs = design.specs(args.problem, args.optimizer, n, epochs, seed=args.seed)
    table = run_sweep(specs, args.results, executor=args.executor, workers=args.workers,
                      need_predictions=args.with_predictions, quiet=args.quiet)
    if not args.quiet:
        print(f"{table.run_id.nunique()} runs of the {args.optimizer} design on {args.problem} "
              f"in {args.results}")
    return 0


def cmd_results(args) -> int:
    from .store import records
    if not Path(args.dir).is_dir():
        raise UsageError(f"results directory {args.dir} does not exist")
    table = records.tidy(records.load_all(Path(args.dir)), args.epochs)
    if args.format == "csv":
        table.to_csv(sys.stdout, index=False)
    else:
        print(table.drop(columns=["run_id", "hparams", "test_correct"]).to_string(index=False))
    return 0


def cmd_bench(args) -> int:
    from .bench import measure
    return measure.main(quick=args.quick, out=args.out)


def cmd_book(args) -> int:
    from .book import build
    return build.build(params_file=args.params, strict=not args.no_strict, out=args.out)


def cmd_pdf(args) -> int:
    from .book import build
    return build.pdf(params_file=args.params, strict=not args.no_strict, out=args.out)


def cmd_glued(args) -> int:
    import json

    from .book import glued
    mine = glued.values(args.book)
    if args.against is None:
        print(json.dumps(mine, indent=1, sort_keys=True))
        return 0
    diff = glued.differences(glued.values(args.against), mine)
    print("\n".join(diff) or f"every glued value of {args.book} equals {args.against}'s")
    return 1 if diff else 0


def parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="lrsweep", description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="command", required=True)

    p = sub.add_parser("data", help="list, verify or fetch datasets")
    p.add_argument("action", choices=["list", "verify", "fetch"])
    p.add_argument("names", nargs="*", metavar="NAME")
    p.set_defaults(func=cmd_data)

    sub.add_parser("problems", help="list test problems").set_defaults(func=cmd_problems)
    sub.add_parser("optimizers", help="list optimizers and their defaults").set_defaults(
        func=cmd_optimizers)

    p = sub.add_parser("sweep", help="run (or reuse) a learning-rate sweep")
    p.add_argument("--problem", nargs="+", required=True)
    p.add_argument("--optimizer", nargs="+", required=True)
    p.add_argument("--lr", nargs="+", type=float, required=True)
    p.add_argument("--seeds", nargs="+", type=int, default=[0])
    p.add_argument("--epochs", type=int, required=True)
    p.add_argument("--set", nargs="+", type=_setting, metavar="KEY=VALUE",
                   help="optimizer hyperparameter or batch_size, e.g. beta2=0.99 adam.eps=1e-6")
    p.add_argument("--results", type=Path, default=paths.PUBLISHED_RUNS,
                   help="record store (default: the published runs, data/runs)")
    p.add_argument("--executor", default="auto", choices=EXECUTORS)
    p.add_argument("--workers", type=int, help="worker processes (default: one per core)")
    p.add_argument("--threads", type=int, help="torch threads for in-process runs")
    p.add_argument("--batching", default="auto", choices=BATCHING,
                   help="train lrs/seeds of one problem together (auto: where it pays)")
    p.add_argument("--scheduler", help="dask: 'local' for a LocalCluster or tcp://HOST:PORT")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.set_defaults(func=cmd_sweep)

    for name, func, about in (
            ("study", cmd_study, "the published study of some problems: the whole lr grid "
                                 "with one seed, then more seeds where it matters"),
            ("beyond", cmd_beyond, "the alternatives to tuning Adam's lr on some problems "
                                   "(lrsweep.study.beyond.PUBLISHED): lr-free optimizers, AMSGrad, "
                                   "cosine, the LR range test"),
            ("batch", cmd_batch, "the best lr against the batch size on some problems "
                                 "(lrsweep.study.batch_lr.PUBLISHED)"),
            ("long", cmd_long, "Adam at its default and at the tuned lr, trained far past the "
                               "study's budget on some problems (lrsweep.study.budget.PUBLISHED)")):
        p = sub.add_parser(name, help=f"run (or resume) {about}")
        p.add_argument("problem", nargs="+")
        _store_options(p)
        p.set_defaults(func=func)

    p = sub.add_parser("design", help="run (or resume) a Sobol design over an optimizer's "
                       "hyperparameters (lr, betas, eps or momentum, batch size)")
    p.add_argument("problem")
    p.add_argument("--optimizer", default="adam")
    p.add_argument("--n", type=int, help="points, a power of 2 (default: the published design's)")
    p.add_argument("--epochs", type=int, help="budget (default: the published design's)")
    p.add_argument("--seed", type=int, default=0, help="scrambles the Sobol sequence")
    _store_options(p)
    p.set_defaults(func=cmd_design)


    p = sub.add_parser("results", help="print the tidy table of a record store")
    p.add_argument("dir", nargs="?", type=Path, default=paths.PUBLISHED_RUNS)
    p.add_argument("--format", choices=["csv", "table"], default="table")
    p.add_argument("--epochs", type=int, help="truncate runs to this budget")
    p.set_defaults(func=cmd_results)

    p = sub.add_parser("bench", help="throughput, MFU and speed-up over the tutorial loop")
    p.add_argument("--quick", action="store_true", help="a CI-sized run (fewer steps, tiny sweep)")
    p.add_argument("--out", help="JSON file (default: data/bench/bench.json; with --quick, "
                   "scratch/bench-quick.json)")
    p.set_defaults(func=cmd_bench)

    p = sub.add_parser("book", help="execute the chapters with papermill and build the book")
    p.add_argument("--params", help="YAML file of per-chapter parameter overrides (a variant book)")
    p.add_argument("--out", help="build folder (default: _build); pages land in OUT/html")
    p.add_argument("--no-strict", action="store_true", help="do not treat Sphinx warnings as errors")
    p.set_defaults(func=cmd_book)

    p = sub.add_parser("pdf", help="the report as one PDF, from the chapters `book` executed")
    p.add_argument("--params", help="YAML file of per-chapter parameter overrides (a variant book)")
    p.add_argument("--out", help="build folder (default: _build); the PDF lands in OUT")
    p.add_argument("--no-strict", action="store_true", help="do not treat Sphinx warnings as errors")
    p.set_defaults(func=cmd_pdf)

    p = sub.add_parser("glued", help="the values an executed book glued (JSON), or those that "
                       "differ from another executed book's")
    p.add_argument("book", nargs="?", type=Path, default=paths.ROOT / "_build" / "book",
                   help="an executed book (default: _build/book)")
    p.add_argument("--against", type=Path, metavar="OTHER", help="another executed book")
    p.set_defaults(func=cmd_glued)
    return ap


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return args.func(args)
    except UsageError as e:
        print(f"lrsweep: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("lrsweep: interrupted; finished runs are saved, rerun to resume", file=sys.stderr)
        return 130
    except BrokenPipeError:  # e.g. `lrsweep results --format csv | head`
        sys.stdout = open(os.devnull, "w")
        return 0
