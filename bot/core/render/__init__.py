"""What the bot posts: the MR note, Slack blocks, and the sanitising that keeps posted text inert."""
