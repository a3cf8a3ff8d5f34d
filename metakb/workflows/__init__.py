"""The workflow layer: one module per user job, the only code that reads the knowledge base
and writes results back.

Each job reads what it needs from the store (:mod:`metakb.store`), calls an algorithm package
(``meta_features``, ``portfolios``, :mod:`metakb.warmstart`, :mod:`metakb.optimizers`,
:mod:`metakb.importance`, ``nas_meta``: frames and arrays in, results out) and writes the
result back with its provenance. The CLI calls these modules; the algorithm packages never
import them (``tests/metakb/test_import_rules.py``).

* :mod:`~metakb.workflows.build` -- evaluate a space on a PMLB folder (``metakb build``);
* :mod:`~metakb.workflows.recommend` -- configurations for a new dataset (``metakb recommend``);
* :mod:`~metakb.workflows.run` -- one configuration on one dataset (``metakb run``);
* :mod:`~metakb.workflows.optimize` -- warm-started BOHB (``metakb optimize``);
* :mod:`~metakb.workflows.portfolio` -- build a portfolio (``metakb portfolio build``);
* :mod:`~metakb.workflows.importance` -- the inputs of ``metakb importance``;
* :mod:`~metakb.workflows.nas` -- store few-shot results (``metakb nas``).

Submodules are imported on use (``import metakb.workflows.build``): this package imports nothing.
"""
