"""Package layout that ``pyproject.toml`` cannot express: the repository's ``db/`` as package data.

The migrations and the shipped knowledge base stay in ``db/`` at the repository root; the wheel
(and an editable install) maps that folder to the importable data package ``metakb_db``, which
:mod:`metakb.store._paths` and :mod:`metakb.store._migrations` read through ``importlib.resources``.
Everything else (metadata, dependencies, extras) is in ``pyproject.toml``.
"""

from setuptools import find_packages, setup

setup(
    packages=[
        *find_packages(include=["metakb*", "meta_features*", "portfolios*", "nas_meta*"]),
        "metakb_db",
        "metakb_db.migrations",
    ],
    package_dir={"metakb_db": "db"},
    package_data={"metakb_db": ["*.sqlite"], "metakb_db.migrations": ["*.sql"]},
    include_package_data=False,
)
