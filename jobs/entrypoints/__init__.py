"""What spark-submit runs (``<layer>_job.py`` over ``runner``) and how it is submitted."""
