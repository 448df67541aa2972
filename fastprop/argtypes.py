"""What the ``fastprop`` commands share to refuse bad input early and in one line: the
parser whose errors are a single ``fastprop: error: ...`` line with exit status 2, the
option types (each says what it expected and what came), and the check that a file an
option names can be written, made before any long run starts."""
import argparse
import contextlib
import math
import os

__all__ = ["CommandParser", "IntermixedParser", "Refusal", "check_writable_file", "checks",
           "finite_float", "non_negative_int", "positive_int", "seed", "threads"]

SEED_LIMIT = 2**32  # np.random.seed takes 0 <= seed < 2**32


class CommandParser(argparse.ArgumentParser):
    """An ArgumentParser whose usage errors are one line: ``fastprop: error: <message> (see
    <prog> --help)``, exit status 2 (subcommand parsers are made of the same class)."""

    def error(self, message):
        self.exit(2, f"fastprop: error: {message} (see {self.prog} --help)\n")


class IntermixedParser(CommandParser):
    """A subcommand parser that takes its options before, between or after its positionals
    (``data import --name ptb DIR`` as well as ``data import DIR --name ptb``).

    Plain argparse matches an optional positional (``nargs='?'``) together with the one
    before it, so ``import --name ptb DIR`` would leave ``DIR`` unrecognised; the
    intermixed parse reads the options first, then the positionals. The subparsers action
    calls ``parse_known_args``, so that is where the switch happens (the intermixed parse
    calls it again itself: the flag lets that inner call through).
    """

    _inner = False

    def parse_known_args(self, args=None, namespace=None):
        if self._inner:
            return super().parse_known_args(args, namespace)
        self._inner = True
        try:
            return self.parse_known_intermixed_args(args, namespace)
        finally:
            self._inner = False


class Refusal(Exception):
    """A check refused an argument, an environment value, a path or the data: the command
    prints its message as one ``fastprop: error:`` line (``--debug``: the traceback of
    the original error, its ``__cause__``)."""


@contextlib.contextmanager
def checks():
    """Around argument and data checks: ValueError, TypeError and OSError raised inside
    become :class:`Refusal` (one line). Outside such a block the same errors are bugs and
    show their traceback, so a failure 50 minutes into a run is never reduced to a line."""
    try:
        yield
    except (ValueError, TypeError, OSError) as exc:
        raise Refusal(str(exc)) from exc


def positive_int(text: str) -> int:
    """An integer >= 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text}")
    return value


def non_negative_int(text: str) -> int:
    """An integer >= 0."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be an integer >= 0, got {text}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be an integer >= 0, got {text}")
    return value


def finite_float(low: float, strict: bool = False):
    """A type for a finite number ``>= low`` (``> low`` when ``strict``); NaN and +-inf are
    refused."""
    bound = f"{'>' if strict else '>='} {low:g}"

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be a finite number {bound}, got {text}") from None
        if not math.isfinite(value) or value < low or (strict and value == low):
            raise argparse.ArgumentTypeError(f"must be a finite number {bound}, got {text}")
        return value

    parse.__name__ = f"finite number {bound}"
    return parse


def seed(text: str) -> int:
    """A seed for NumPy's global RNG: an integer in [0, 2**32)."""
    try:
        value = int(text)
    except ValueError:
        value = -1
    if not 0 <= value < SEED_LIMIT:
        raise argparse.ArgumentTypeError(
            f"must be an integer from 0 to {SEED_LIMIT - 1} (np.random.seed), got {text}")
    return value


def threads(text: str) -> str:
    """``'auto'`` or a positive integer (returned as given, for
    :func:`fastprop.threads.set_threads`)."""
    text = text.strip()
    if text.lower() == "auto":
        return "auto"
    try:
        positive_int(text)
    except argparse.ArgumentTypeError:
        raise argparse.ArgumentTypeError(f"must be 'auto' or a positive integer, got {text}") from None
    return text


def check_writable_file(path, option: str) -> None:
    """Make sure ``path`` can be written as a file, before the work that will write it.

    Tries to open it for appending (creating it, then removing it again, when it did not
    exist), so every reason the write would fail later shows now: a folder that does not
    exist, a folder given instead of a file, no permission, a read-only file system.

    Raises
    ------
    ValueError
        Naming ``option``, the path and the reason.
    """
    path = os.fspath(path)
    if not path:
        raise ValueError(f"{option} needs a file name, got an empty string")
    if os.path.isdir(path):
        raise ValueError(f"{option} {path}: that is a folder; give a file name such as "
                         f"{os.path.join(path, 'out.png' if option == '--plot' else 'out.json')}")
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise ValueError(f"{option} {path}: the folder {folder} does not exist")
    existed = os.path.exists(path)
    try:
        with open(path, "ab"):
            pass
    except OSError as exc:
        raise ValueError(f"{option} {path}: cannot write there ({exc.strerror or exc})") from None
    if not existed:
        os.remove(path)
