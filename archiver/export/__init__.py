"""What an archive gives other tools: packages read from git history and the captures, for
web-archive players and for research, written only where the user asks."""
