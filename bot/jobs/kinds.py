"""The kinds of job in the durable queue (doors enqueue them, workers run them)."""

ANALYZE_PIPELINE = "analyze_pipeline"
PIPELINE_PASSED = "pipeline_passed"
MR_NOTE = "mr_note"
