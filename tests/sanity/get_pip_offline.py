"""Stand-in for the pip bootstrap script ansible-test downloads before creating its virtualenvs.

ansible-test fetches get-pip.py from a host this machine cannot reach; the Makefile puts this file
in ansible-test's cache instead. It installs pip from Python's own ensurepip wheel, then lets pip
install what ansible-test asked for (pip==<version> and friends) from the package index.
"""
import subprocess
import sys

GET_PIP_ONLY = ("--no-setuptools", "--no-wheel")


def main() -> int:
    subprocess.check_call([sys.executable, "-m", "ensurepip", "--default-pip"], stdout=subprocess.DEVNULL)
    requested = [arg for arg in sys.argv[1:] if arg not in GET_PIP_ONLY]
    return subprocess.call([sys.executable, "-m", "pip", "install"] + requested)


if __name__ == "__main__":
    sys.exit(main())
