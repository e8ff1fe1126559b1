"""The annotation store: expert corrections kept safely in SQLite and exported as training data.

`annotations.store.Store` is the API (the app calls it); `annotations.export` turns a store into
instruction-tuning data; `python -m annotations` is the command line. This package may import
llamo; llamo never imports it.
"""
