"""Pure transforms: ``DataFrame -> DataFrame`` (or ``Column``) functions, no I/O, no session."""
