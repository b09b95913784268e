"""Command-line subcommands of cicd-bot."""
