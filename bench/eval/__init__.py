"""Answer quality: a labelled question set over the generated sample, gold answers computed
independently in pandas, a scorer, a report (bench/RESULTS.md) and the runner.

python -m bench eval [--offline] [--limit N] [--customers N] [--events-per-customer N]

cases.py   the questions (id, category, turns, expected kind, gold function)
gold.py    the sample's CSV files as pandas frames; the kinds of gold answer
score.py   one Result against its gold: fully right or why not
report.py  the Markdown section
runner.py  ingest the sample into fresh stores, ask every case (offline planner; agent with a key)
"""
