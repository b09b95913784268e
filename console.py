"""The cicd-bot command: `cicd-bot excerpt` runs without loading the server, every other command goes to app.main."""

from __future__ import annotations

import os
import sys

# Commands that need none of the server and start in a fraction of the time when it is not imported.
LIGHT_COMMANDS = ("excerpt",)


def main(argv: list[str] | None = None) -> int:
    """Run `cicd-bot ARGS`: a light command straight away when it comes first, anything else through app.main."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["excerpt"]:
        from bot.cli import excerpt

        try:
            return excerpt.main(argv[1:], with_settings=True)
        except KeyboardInterrupt:
            return 130
        except BrokenPipeError:
            # `cicd-bot excerpt big.log | head`: the reader left; say nothing, as app.main does.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            return 1
    from app import main as app_main

    return app_main(argv)


if __name__ == "__main__":
    sys.exit(main())
