"""I/O adapters (GitLab, Slack, IMAP, log streaming) behind the small Protocols in ports.py."""
