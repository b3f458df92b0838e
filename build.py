"""`python build.py [ARGS]` is `communique build [ARGS]`."""

import sys

from communique.cli import main

if __name__ == "__main__":
    sys.exit(main(["build", *sys.argv[1:]]))
