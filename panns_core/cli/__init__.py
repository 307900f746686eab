"""The `panns` command line (`python -m panns_core`): one module per command, one parser built from them."""
