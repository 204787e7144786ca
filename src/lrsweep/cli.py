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


def cmd_design_of(name: str):
    """The command that runs the design ``name`` of the registry for each problem named
    (all names checked before any work starts) and says how many runs it holds."""
    def cmd(args) -> int:
        from .study import registry
        design = registry.PUBLISHED.by_name()[name]
        if name == "design" and (args.optimizer or args.n or args.epochs or args.seed):
            design = _sobol(design, args)
        for p in args.problem:
            design.check(p)
        for p in args.problem:
            table = design.run(p, args.results, executor=args.executor, workers=args.workers,
                               need_predictions=args.with_predictions, quiet=args.quiet)
            if not args.quiet:
                print(f"{p}: {table.run_id.nunique()} runs of {name} in {args.results}")
        return 0
    return cmd


def _sobol(published, args):
    """The Sobol designs a reader asked for on each problem: ``--optimizer``'s (None: each
    optimizer's with a published design there, else Adam's), with ``--n`` points and
    ``--epochs`` (each None: the published design's)."""
    from dataclasses import replace
    points = {}
    for p in args.problem:
        mine = [o for q, o in published.points if q == p]
        for o in [args.optimizer] if args.optimizer else mine or ["adam"]:
            base = published.points.get((p, o))
            if base is None and (args.n is None or args.epochs is None):
                raise UsageError(f"no published design of {o} on {p}; give --n and --epochs")
            points[(p, o)] = (args.n or base[0], args.epochs or base[1])
    return replace(published, points=points, seed=args.seed)


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

    from .study.registry import PUBLISHED  # the designs are data: no torch to list them
    for name, design in PUBLISHED.by_name().items():
        p = sub.add_parser(name, help=f"run (or resume) {design.about}")
        p.add_argument("problem", nargs="+")
        if name == "design":
            p.add_argument("--optimizer", help="one optimizer's design (default: each published one's)")
            p.add_argument("--n", type=int, help="points, a power of 2 (default: the published design's)")
            p.add_argument("--epochs", type=int, help="budget (default: the published design's)")
            p.add_argument("--seed", type=int, default=0, help="scrambles the Sobol sequence")
        _store_options(p)
        p.set_defaults(func=cmd_design_of(name))

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
