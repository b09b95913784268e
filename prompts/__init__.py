"""Prompt templates as files, and the code that fills them."""
