"""spark-submit entry point: the silver tables for a date range.

    spark-submit jobs/entrypoints/silver_job.py --env local --start 2013-01-01 --end 2013-01-31

Run it through `spark-submit/submit` to get the pinned jars and the right interpreter.
"""

import sys

from jobs.entrypoints.runner import main

if __name__ == "__main__":
    sys.exit(main("silver"))
