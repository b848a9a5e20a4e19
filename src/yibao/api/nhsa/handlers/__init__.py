"""Transaction handlers, one module per family; every module here is loaded by the dispatcher."""
