# Type stub for librsync/__init__.py.  Like the runtime module it only
# gathers what its modules export: the API from _api.pyi and _iter.pyi and
# the exceptions from exceptions.py (plain Python, typed in place), each by
# its own __all__.  No __all__ here: mypy reads a stub's __all__ only as a literal
# list, which would be a copy of those lists; star imports from modules
# that have an __all__ export exactly it (see stubtest_allowlist.txt).

from . import _api as _api, _iter as _iter, exceptions as exceptions
from ._api import *
from ._iter import *
from ._version import __version__ as __version__
from .exceptions import *
