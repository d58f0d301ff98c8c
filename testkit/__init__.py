"""Support code shared by the tests and the bench (never shipped: the Dockerfile copies only the
production packages). `testkit.process` runs the shop as a real `python -m bot` process."""
