"""The storefront's routes, one blueprint per area; the factory wires their dependencies."""
