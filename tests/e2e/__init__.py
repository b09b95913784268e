"""The real bot process with fake GitLab, Slack and model servers, a real IMAP server and PostgreSQL."""
