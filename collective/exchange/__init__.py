"""Reference exchange rates between currencies, kept by hand or loaded from a file (no
network at run time), for showing amounts of several collectives in one currency."""
