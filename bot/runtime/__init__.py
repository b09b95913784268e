"""What runs the jobs: the typed Services, the worker loops, the metrics."""
