"""``python -m librsync``: the same command line as the ``librsync`` script."""

from librsync.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
