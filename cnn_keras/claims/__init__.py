"""The papers' claims and their verdicts from the recorded runs: the scoreboard
``results/CLAIMS.md`` (`cnn-keras claims`) and each notebook's "Results vs the paper" table.

    from cnn_keras import claims
    rows = claims.evaluate("results", notebook="04")
"""

from cnn_keras.claims.board import (
    evaluate,
    readme_block,
    render,
    summary_line,
    table,
    training,
    with_readme_block,
    write,
)
from cnn_keras.claims.catalog import CLAIMS, PAPERS, Claim
from cnn_keras.claims.evidence import record_summary
from cnn_keras.claims.notebook import record_table, show_record

__all__ = ["CLAIMS", "PAPERS", "Claim", "evaluate", "readme_block", "record_summary",
           "record_table", "render", "show_record", "summary_line", "table",
           "training", "with_readme_block", "write"]
