"""The thread's claims: verdicts by fixed rules on synthetic records whose answer is known."""
import numpy as np
import pandas as pd

from lrsweep.stats import analysis
from lrsweep.book import claims
from conftest import curve, table

SEEDS = range(5)


def cell(accs, problem):
    return table(curve("adam", accs, seeds=SEEDS, noise=0.001), problem)


def test_grid_claim_supported_only_where_the_grid_holds_the_best_on_every_problem():
    on_grid = {1e-4: .80, 1e-3: .95, 1e-2: .90, 1e-1: .50}
    off_grid = {1e-4: .80, 1e-3: .85, 3.16e-3: .95, 1e-2: .86, 1e-1: .50}
    both = analysis.final_epoch(pd.concat([cell(on_grid, "p"), cell(on_grid, "q")]))
    c = claims.grid_claim(both, "four decades (1e-4 .. 1e-1)")
    assert c["verdict"] == "supported" and c["n_problems"] == 2 and c["n"] == 5
    mixed = analysis.final_epoch(pd.concat([cell(on_grid, "p"), cell(off_grid, "q")]))
    c = claims.grid_claim(mixed, "four decades (1e-4 .. 1e-1)")
    assert c["verdict"] == "partly supported" and c["problem"] == "q"
    assert abs(c["regret"] - 0.09) < 0.005 and c["lo"] > analysis.DELTA
    worse = analysis.final_epoch(pd.concat([cell(off_grid, "p"), cell(off_grid, "q")]))
    assert claims.grid_claim(worse, "1e-4 and 1e-3")["verdict"] == "not supported"


def runs(problem, shapes):
    """Seed-0 curves {lr: [valid acc per epoch, or None after divergence]}."""
    rows = []
    for lr, accs in shapes.items():
        for e, a in enumerate(accs):
            status = "diverged" if None in accs else "ok"
            if a is not None:
                rows.append(("adam", lr, 0, e, status, a, a))
    return table(rows, problem)


def test_speed_stability_claim_reads_the_curves():
    slow_and_steady = {1e-4: [.1, .3, .5, .6], 3.16e-4: [.1, .5, .7, .8], 1e-3: [.1, .6, .8, .9],
                       1e-2: [.1, .8, .7, .85], 1e-1: [.1, .9, None, None]}
    t = runs("p", slow_and_steady)
    per = claims.speed_stability(t).set_index("problem")
    assert per.loc["p", "rho_speed"] > 0 and per.loc["p", "rho_instability"] > 0
    assert per.loc["p", "first_diverged"] == 1e-1  # divergence is reported on its own
    shape = claims.curve_shape(t).set_index("lr")
    assert shape.loc[1e-1, "diverged"] and abs(shape.loc[1e-2, "instability"] - 0.1) < 1e-12
    # the old rule ranked the diverged run as the most unstable of all
    old = claims.speed_stability(t, old_rule=True).set_index("problem")
    assert old.loc["p", "rho_instability"] > per.loc["p", "rho_instability"]
    # the opposite: the larger lr is the slow and smooth one
    reversed_ = {1e-4: [.1, .8, .6, .85], 3.16e-4: [.1, .7, .6, .8], 1e-3: [.1, .6, .8, .9],
                 1e-2: [.1, .3, .5, .6]}
    t2 = runs("q", reversed_)
    c = claims.speed_stability_claim(pd.concat([t, t2]))
    assert c["verdict"] == "partly supported" and c["holds_on"] == 1 and c["n_problems"] == 2
    assert claims.speed_stability_claim(t)["verdict"] == "supported"
    assert claims.speed_stability_claim(t2)["verdict"] == "not supported"
    # the tuned lr at the grid's low end: too few lrs to tell, neither held nor failed
    short = runs("r", {1e-4: [.1, .8, .9], 1e-3: [.1, .6, .7], 1e-2: [.1, .3, .4]})
    assert claims.speed_stability_claim(short)["verdict"] == "partly supported"


def test_claims_table_has_a_row_per_claim_with_its_evidence():
    on_grid = {1e-4: .80, 1e-3: .95, 1e-2: .90, 1e-1: .50}
    runs = pd.concat([cell(on_grid, "p"), cell(on_grid, "q")])
    t = claims.table(analysis.final_epoch(runs), runs)
    assert list(t["claim"]) == list(claims.THREAD.values())
    assert list(t["verdict"][:2]) == ["supported", "supported"]
    assert "(n = 5), over 2 problems" in t["evidence"][0]
    assert list(t["verdict"][3:]) == ["not measured yet"] * 2


def shares(problem, optimizer, lead, betas=None):
    """Importance rows as importance.bootstrap gives them: (share, lo, hi) per term."""
    from lrsweep.study.importance import BETAS, LR_LEAD
    terms = {LR_LEAD: lead, **({BETAS: betas} if betas else {})}
    return pd.DataFrame([dict(term=k, share=v[0], lo=v[1], hi=v[2], n_runs=128, problem=problem,
                              optimizer=optimizer) for k, v in terms.items()])


def test_influence_and_betas_claims_follow_the_design_intervals():
    clear = shares("p", "adam", (0.5, 0.3, 0.7), betas=(0.02, 0.01, 0.05))
    sgd = shares("p", "sgd_momentum", (0.4, 0.2, 0.6))
    c = claims.importance_claims(pd.concat([clear, sgd]))
    assert c["influential"]["verdict"] == "supported" and c["influential"]["n_designs"] == 2
    assert c["influential"]["optimizer"] == "sgd_momentum"  # the lower end nearer 0
    assert c["betas"]["verdict"] == "supported" and c["betas"]["n_designs"] == 1
    # an interval across the threshold cannot tell; one beyond it on every design fails
    blurred = shares("p", "adam", (0.1, -0.05, 0.3), betas=(0.1, 0.05, 0.2))
    c = claims.importance_claims(pd.concat([blurred, sgd]))
    assert c["influential"]["verdict"] == "partly supported" and c["influential"]["lo"] == -0.05
    assert c["betas"]["verdict"] == "partly supported"
    c = claims.importance_claims(shares("p", "adam", (-0.3, -0.5, -0.1), betas=(0.4, 0.3, 0.5)))
    assert c["influential"]["verdict"] == c["betas"]["verdict"] == "not supported"


def test_claims_table_reads_the_designs_when_given():
    on_grid = {1e-4: .80, 1e-3: .95, 1e-2: .90, 1e-1: .50}
    runs = cell(on_grid, "p")
    t = claims.table(analysis.final_epoch(runs), runs,
                     shares=shares("p", "adam", (0.5, 0.3, 0.7), betas=(0.02, 0.01, 0.05)))
    assert list(t["verdict"][3:]) == ["supported", "not measured near the tuned lr"]
    assert "50% [30, 70] on p, Adam (128 runs)" in t["evidence"][3]
    assert "By the old rule, over each whole design" in t["evidence"][4]
    assert ": supported, share of the variance explained by beta1 and beta2" in t["evidence"][4]
    # each claim refers to the figure that shows it by number, from wherever the table is shown
    myst = claims.shown(t).to_myst()
    assert "{numref}`Fig. %s, importance (Beyond the learning rate) <fig-importance>`" in myst
    assert "{numref}`Fig. %s, coarse grids (Synthesis) <fig-grids>`" in myst
    assert "fig-mnist-logreg-epochs" not in myst  # problem "p" has no chapter
    assert t["figure"][2] == ("fig-basin", "synthesis", "basin widths (Synthesis)")


def test_the_betas_are_judged_near_the_tuned_lr_with_the_old_verdict_beside():
    on_grid = {1e-4: .80, 1e-3: .95, 1e-2: .90, 1e-1: .50}
    runs = cell(on_grid, "p")
    designs = shares("p", "adam", (0.5, 0.3, 0.7), betas=(0.02, 0.01, 0.05))
    near = pd.concat([shares("p", "adam", (0.0, -0.1, 0.1), betas=(0.15, 0.04, 0.43)),
                      shares("q", "adam", (0.0, -0.1, 0.1), betas=(0.30, 0.20, 0.40)),
                      pd.DataFrame([dict(term=None, n_runs=13, problem="r", optimizer="sgd_momentum")])])
    t = claims.table(analysis.final_epoch(runs), runs, shares=designs, near=near)
    # near the tuned lr: p cannot tell (15% [4, 43]), q fails (30% [20, 40]): partly
    assert t["verdict"][4] == "partly supported"
    assert "within 0.5 decades of the tuned lr" in t["evidence"][4]
    assert "15% [4, 43] on p, Adam (128 runs), the least favourable of 2 designs" in t["evidence"][4]
    assert "By the old rule" in t["evidence"][4] and ": supported, " in t["evidence"][4]
    assert "decades" not in t["evidence"][3]
