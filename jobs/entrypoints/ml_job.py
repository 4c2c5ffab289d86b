"""spark-submit entry point: train the departure-delay model and score a date range.

    spark-submit jobs/entrypoints/ml_job.py --env local --start 2013-11-01 --end 2013-11-30
    spark-submit jobs/entrypoints/ml_job.py ... --tables ml/delay_model        (train only)
    spark-submit jobs/entrypoints/ml_job.py ... --tables ml/delay_predictions  (score only)

Training ignores the range (its window is [ml] training_cutoff and holdout_days); scoring
uses the champion, which must have been trained before the range's first day.
Run it through `spark-submit/submit` to get the pinned jars and the right interpreter.
"""

import sys

from jobs.entrypoints.runner import main

if __name__ == "__main__":
    sys.exit(main("ml"))
