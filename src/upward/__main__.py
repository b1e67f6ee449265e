"""``python -m upward`` runs the command line."""

from upward.cli.main import main

main()
