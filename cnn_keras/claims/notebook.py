"""A recorded study as a notebook shows it (Keras-free): its figure and each variant's numbers
over its seeds, or, before the record exists, the decisive run that will make it."""

from __future__ import annotations

from pathlib import Path

from cnn_keras.claims.catalog import CLAIMS
from cnn_keras.claims.evidence import load_record, record_summary
from cnn_keras.claims.kinds import Compare, Reach, records


def planned(name: str) -> list[str]:
    """The plans of the claims that rest on the record `name` (what to run, and its cost)."""
    return list(dict.fromkeys(c.evidence.plan for c in CLAIMS
                              if isinstance(c.evidence, (Compare, Reach))
                              and name in records(c.evidence) and c.evidence.plan))


def record_table(results, name: str) -> str:
    """Each variant's seeds and mean ± spread per metric, as aligned text (columns that no
    variant has are left out)."""
    rows = record_summary(results, name)
    columns = [k for k in ("variant", "seeds", "final_train_error", "final_train_error_clean",
                           "final_test_error", "generalisation_gap", "epochs_to_threshold")
               if any(r.get(k) is not None for r in rows)]
    cells = [[str(r.get(k, "")) for k in columns] for r in rows]
    widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(columns)]
    return "\n".join("  ".join(text.ljust(w) for text, w in zip(line, widths)).rstrip()
                     for line in [columns, *cells])


def show_record(results, name: str, figure: str = "ablation.png", fallback: str = "") -> None:
    """Display the record `results/name`: its figure (seed 0), its set-up and `record_table`.
    Where it is not recorded yet, its CPU version `fallback` (the claims' `fallback`) if that
    is, else what to run to make it."""
    rec = load_record(Path(results), name)
    if rec is None and fallback and load_record(Path(results), fallback) is not None:
        print(f"results/{name} is not recorded yet; its CPU version, until it is:")
        show_record(results, fallback, figure)
        return
    if rec is None:
        print(f"results/{name} is not recorded yet. The decisive run:")
        for plan in planned(name) or ["(no claim names this record)"]:
            print(f"  {plan}")
        return
    from IPython.display import Image, display

    if (rec.folders[0] / figure).exists():
        display(Image(filename=str(rec.folders[0] / figure)))
    print(f"results/{name}: {rec.setup}")
    print(record_table(results, name))
