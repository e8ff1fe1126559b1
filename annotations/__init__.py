"""The annotation store: expert corrections kept safely in SQLite and exported as training data.

`annotations.store.Store` is the API (the app calls it); `annotations.export` turns a store into
instruction-tuning data and `annotations.importing` merges such an export back; `python -m
annotations` is the command line. The Store's jobs live in their own modules (see store.py's
docstring). This package may import llamo; llamo never imports it.
"""
