"""Data sets: generators for the papers' synthetic problems and loaders of real data.

Generators (:func:`make_xor`, :func:`make_no_overlap_regression`) need nothing but numpy.
Loaders (:func:`load_uci`, :func:`load_mnist`, :func:`load_fashion_mnist`) read a local
directory laid out like the project's ``shared/data`` (see :func:`get_data_home`); nothing
here touches the network.
"""

from ._home import get_data_home
from ._mnist import load_fashion_mnist, load_mnist
from ._no_overlap import make_no_overlap_regression
from ._uci import UCI_DATASETS, load_uci
from ._xor import make_xor

__all__ = [
    "UCI_DATASETS",
    "get_data_home",
    "load_fashion_mnist",
    "load_mnist",
    "load_uci",
    "make_no_overlap_regression",
    "make_xor",
]
